"""The two-stage CoIC trainer (and the baseline: the same recipe with CoIC off).

Stage 1 trains the backbone alone, modulation off. Stage 2 trains backbone, modulation MLPs and
encoder together on `restoration + contrast_weight * InfoNCE`, with z from the query encoder, as the
official `train_<Backbone>.py` scripts do (two Adam optimisers: backbone; CoIC parts + encoder).

Everything a step consumes is a function of (seed, step): the samples (see `zoo.data.mixing`), the
contrastive flips and blurs (a generator seeded per step), and the global RNG restored from the
checkpoint. So a run killed at any point and resumed from its last checkpoint ends with the same
weights, bit for bit, as a run that was never interrupted.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from .._atomic import ensure_folder, remove_stale_temps
from .._progress import NullProgress, ProgressLike
from ..coic.contrastive import RainArchive, build_views, contrastive_loss
from ..coic.model import CoICModel
from ..coic.modulation import context_of
from ..data.mixing import MixedPatches, StepSampler, training_sources
from ..errors import CheckpointError, ZooError
from ..models.build import build_model
from ..models.checkpoint import save_model_dir
from . import distributed as dist_utils
from .config import TrainConfig
from .logs import TrainLog
from .losses import STAGE_LOSSES, get_loss
from .optim import build_optimizers, build_schedulers
from .runs import STATE_FILE, default_run_dir, load_state, run_config, save_state


class TrainingDiverged(ZooError):
    """The loss stopped being finite; the last good checkpoint is kept."""


class Trainer:
    """Trains one run into `run_dir`; `Trainer.resume(run_dir)` continues a killed one."""

    def __init__(
        self, cfg: TrainConfig, run_dir: Path | None = None, *, overwrite: bool = False, initialise: bool = True
    ) -> None:
        self.cfg = cfg.resolved()
        self.run_dir = Path(run_dir) if run_dir is not None else default_run_dir(self.cfg)
        self.dist = dist_utils.setup()
        if self.cfg.batch % self.dist.world:  # type: ignore[operator]
            raise ZooError(f"--batch {self.cfg.batch} must be divisible by the {self.dist.world} processes")
        if self.run_dir.exists() and not self.run_dir.is_dir():
            raise ZooError(f"{self.run_dir} is a file; a run needs a folder there: choose another run folder (--out)")
        if (self.run_dir / STATE_FILE).exists() and not overwrite:
            raise ZooError(
                f"{self.run_dir} already holds a run; continue it with --resume {self.run_dir}, "
                "or pass --out to another folder (or --overwrite)"
            )
        torch.manual_seed(self.cfg.seed)  # the same initial weights on every rank
        self.model = build_model(
            self.cfg.backbone, coic=self.cfg.coic, config=self.cfg.config, **self.cfg.model
        )
        if self.cfg.init and initialise:  # a resumed run takes its weights from its own state instead
            from ..models.external_weights import load_init

            load_init(self.model, self.cfg.backbone, self.cfg.config, self.cfg.init)
        dist_utils.broadcast_parameters(self.model, self.dist)
        torch.manual_seed(self.cfg.seed * 1000 + self.dist.rank)  # per-rank randomness from here on (dropout)
        if self.cfg.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.coic = isinstance(self.model, CoICModel)
        if self.coic:
            self.model.key_encoder.momentum = float(self.cfg.momentum)
        backbone = self.model.backbone if self.coic else self.model
        self.optimizers = build_optimizers(self.cfg, self.model)
        self.clipped = list(backbone.parameters())  # official clipping: backbone incl. modulation, not the encoder
        self.guarded = [list(opt_params(o)) for o in self.optimizers.values()]  # the explode guard clips each group
        self.schedulers = build_schedulers(self.cfg, self.optimizers)
        self.ema = self._make_ema()
        self.archive = RainArchive()
        self.restoration = get_loss(self.cfg.loss)  # type: ignore[arg-type]
        self.step = 0
        self.wall_time = 0.0
        self.last_checkpoint = -1
        self.log = TrainLog()
        self._resume_rng: Tensor | None = None

    @classmethod
    def resume(cls, run_dir: Path, iters: int | None = None) -> Trainer:
        """Rebuild the run in `run_dir` from its config and continue from its last checkpoint."""
        run_dir = Path(run_dir)
        cfg = run_config(run_dir)
        state = load_state(run_dir)
        if iters is not None:
            cfg = replace(cfg, iters=iters)
        trainer = cls(cfg, run_dir, overwrite=True, initialise=False)
        try:
            trainer.load_state_dict(state)
        except (KeyError, RuntimeError, TypeError, ValueError) as err:
            first = (str(err).strip().splitlines() or [type(err).__name__])[0][:160]
            raise CheckpointError(
                f"{run_dir / STATE_FILE}: does not fit the run's config.json ({first}); was it copied from another run? "
                "Restore the run's own file, or start again with --overwrite"
            ) from None
        if trainer.dist.main:
            remove_stale_temps(run_dir)  # what a kill mid-write left behind; never read
        return trainer

    def _make_ema(self) -> nn.Module | None:
        if not self.cfg.ema:
            return None
        from timm.utils import ModelEmaV3

        return ModelEmaV3(self.model, decay=self.cfg.ema)

    def state_dict(self) -> dict[str, Any]:
        return {
            "format_version": 1,
            "step": self.step,
            "wall_time": self.wall_time,
            "model": self.model.state_dict(),
            "optimizers": {k: v.state_dict() for k, v in self.optimizers.items()},
            "schedulers": {k: v.state_dict() for k, v in self.schedulers.items()},
            "archive": self.archive.state_dict(),
            "ema": None if self.ema is None else self.ema.state_dict(),
            "rng": torch.get_rng_state(),
            "history": self.log.history,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        for name, sched in self.schedulers.items():
            sched.load_state_dict(state["schedulers"][name])
        self.archive.load_state_dict(state["archive"])
        if self.ema is not None and state.get("ema") is not None:
            self.ema.load_state_dict(state["ema"])
        self._resume_rng = state["rng"]  # put back in `fit`, once the data loader has drawn its seed
        self.step = int(state["step"])
        self.wall_time = float(state["wall_time"])
        self.last_checkpoint = self.step
        self.log = TrainLog(state.get("history", []))

    def _loader(self) -> DataLoader:
        cfg = self.cfg
        sources = training_sources(
            cfg.data, Path(cfg.root) if cfg.root else None, cfg.seed, cfg.synth_count, cfg.synth_size,
            overrides=cfg.root_overrides(), allow_partial=cfg.allow_partial,
        )
        dataset = MixedPatches(sources, cfg.crop, cfg.seed, contrastive=self.coic)  # type: ignore[arg-type]
        dataset.check_crop()
        per_rank = cfg.batch // self.dist.world  # type: ignore[operator]
        sampler = StepSampler(per_rank, self.step, cfg.iters, self.dist.rank, self.dist.world)  # type: ignore[arg-type]
        return DataLoader(dataset, batch_size=per_rank, sampler=sampler, num_workers=cfg.num_workers)

    def _outputs(self, rainy: Tensor, z: Tensor | None) -> Any:
        """What the loss reads: the backbone's stage outputs for stage losses, else [restored]."""
        backbone = self.model.backbone if self.coic else self.model
        if self.cfg.loss in STAGE_LOSSES:
            if not hasattr(backbone, "forward_stages"):
                raise ZooError(f"loss '{self.cfg.loss}' needs stage outputs, which '{self.cfg.backbone}' does not give; --set loss=l1")
            if z is not None:
                with context_of(backbone).use(z):
                    return backbone.forward_stages(rainy)
            return backbone.forward_stages(rainy)
        if z is not None:
            return [self.model(rainy, z=z)]
        return [self.model(rainy)]

    def train_step(self, batch: dict[str, Tensor]) -> dict[str, float]:
        cfg = self.cfg
        # Official `if step <= stage1_iters: stage 1`: stage 1 runs steps 0..stage1_iters inclusive.
        stage2 = self.coic and self.step > cfg.stage1_iters  # type: ignore[operator]
        if self.coic:
            self.model.modulation = stage2
        self.model.train()
        rainy, clean = batch["rainy"], batch["clean"]
        if cfg.channels_last:
            rainy = rainy.contiguous(memory_format=torch.channels_last)
        for opt in self.optimizers.values():
            opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
            contrast = torch.zeros(())
            z = None
            # The official pool is filled from step 0, stage 1 included; without it, this batch only.
            pool = self.archive.push(batch["rainy"] - clean) if self.coic and cfg.rain_pool else None
            if stage2:
                generator = torch.Generator().manual_seed(cfg.seed * 1_000_003 + self.step * 31 + self.dist.rank)
                views = build_views(
                    batch["rainy_full"], batch["clean_full"], rainy, clean, pool, cfg.n_neg, generator,  # type: ignore[arg-type]
                    per_image=bool(cfg.per_image_views),
                )
                contrast, z = contrastive_loss(self.model.encoder, self.model.key_encoder, views, cfg.temperature)  # type: ignore[arg-type]
            outputs = self._outputs(rainy, z)
        # Losses in float32: SSIM's variance terms cancel catastrophically in bfloat16 (measured: -inf by step 6).
        restoration = self.restoration(_as_float(outputs), clean, rainy)
        loss = restoration + (cfg.contrast_weight or 0.0) * contrast.float()
        if not dist_utils.all_finite(loss.detach(), self.dist):
            raise TrainingDiverged(
                f"the loss became {loss.item()} at step {self.step}; stopped. The last good checkpoint "
                f"(step {self.last_checkpoint}) is kept in {self.run_dir}; lower --set lr=... and --resume, or restart"
            )
        loss.backward()
        dist_utils.average_gradients(self.model, self.dist)
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.clipped, cfg.grad_clip)
        if stage2 and cfg.explode_guard and _final(outputs).detach().abs().max() > cfg.explode_guard:
            for params in self.guarded:  # train_DGUNet.py: clip_grad_norm_(..., 1e-8) per optimiser group
                torch.nn.utils.clip_grad_norm_(params, 1e-8)
        for opt in self.optimizers.values():
            opt.step()
        for sched in self.schedulers.values():
            sched.step()
        dist_utils.sync_buffers(self.model, self.dist)
        if self.ema is not None:
            self.ema.update(self.model, step=self.step)
        self.step += 1
        return {"loss": loss.item(), "restoration": restoration.item(), "contrast": float(contrast.item()), "stage": 2.0 if stage2 else 1.0}

    def export_model(self) -> nn.Module:
        """The weights to publish: the EMA copy when EMA is on, else the trained model."""
        return self.ema.module if self.ema is not None else self.model

    def checkpoint(self) -> None:
        """Write the resumable state, then the exported model, each atomically (rank 0 only)."""
        if self.dist.main:
            save_state(self.run_dir / STATE_FILE, self.state_dict())
            run = {"step": self.step, "complete": self.step >= self.cfg.iters, "wall_time_s": self.wall_time}
            save_model_dir(self.export_model(), self.run_dir, {"train": self.cfg.as_dict(), "run": run})
        self.last_checkpoint = self.step
        dist_utils.barrier(self.dist)

    def fit(self, progress: ProgressLike | None = None, stop_after: int | None = None) -> None:
        """Train until `cfg.iters` (or `stop_after` more steps), checkpointing every `ckpt_every` steps.

        `progress` (owned and started by the caller) gets one task for this run, advanced per step.
        """
        cfg = self.cfg
        loader = self._loader()  # checks the data first: a bad --data or --crop leaves no run folder behind
        ensure_folder(self.run_dir)
        bar = progress if progress is not None and self.dist.main else NullProgress()
        if self.dist.main:
            self.log.open(self.run_dir)
        target = cfg.iters if stop_after is None else min(cfg.iters, self.step + stop_after)  # type: ignore[type-var]
        task = bar.add_task(
            f"{cfg.backbone} {'coic' if self.coic else 'baseline'}", total=cfg.iters, completed=self.step, loss=float("nan")
        )
        try:
            batches = iter(loader)  # creating the iterator draws a seed from the global RNG ...
            if self._resume_rng is not None:
                torch.set_rng_state(self._resume_rng)  # ... so a resumed run's RNG is restored after it
                self._resume_rng = None
            for batch in batches:
                if self.step >= target:
                    break
                start = time.perf_counter()
                logs = self.train_step(batch)
                self.wall_time += time.perf_counter() - start
                bar.update(task, advance=1, loss=logs["loss"])
                if self.step % cfg.log_every == 0 or self.step == cfg.iters:
                    self.log.record(self.step, logs, self.optimizers["base"].param_groups[0]["lr"])
                if self.step % cfg.ckpt_every == 0 or self.step == cfg.iters:
                    self.checkpoint()
        finally:
            self.log.close()
            bar.remove_task(task)

    def close(self) -> None:
        dist_utils.teardown(self.dist)


def opt_params(optimizer: torch.optim.Optimizer) -> list[Tensor]:
    """Every parameter an optimiser updates."""
    return [p for group in optimizer.param_groups for p in group["params"]]


def _final(outputs: Any) -> Tensor:
    """The restored image among the loss inputs (stage lists end with it; RCDNet's tuple holds its last stage)."""
    if isinstance(outputs, Tensor):
        return outputs
    if isinstance(outputs, tuple) and hasattr(outputs, "backgrounds"):
        return _final(outputs.backgrounds)
    return _final(outputs[-1])


def _as_float(outputs: Any) -> Any:
    """Outputs (a tensor, or lists / named tuples of them) in float32."""
    if isinstance(outputs, Tensor):
        return outputs.float()
    if isinstance(outputs, tuple) and hasattr(outputs, "_fields"):
        return type(outputs)(*(_as_float(o) for o in outputs))
    if isinstance(outputs, (list, tuple)):
        return type(outputs)(_as_float(o) for o in outputs)
    return outputs
