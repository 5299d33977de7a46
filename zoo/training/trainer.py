"""The two-stage CoIC trainer (and the baseline: the same recipe with CoIC off).

Stage 1 trains the backbone alone, modulation off. Stage 2 trains backbone, modulation MLPs and
encoder together on `restoration + contrast_weight * InfoNCE`, with z from the query encoder, as the
official `train_<Backbone>.py` scripts do (two Adam optimisers: backbone; CoIC parts + encoder).

Everything a step consumes is a function of (seed, step): the samples (see `zoo.data.mixing`), the
contrastive flips and blurs (a generator seeded per step), and the global RNG restored from the
checkpoint. So a run killed at any point and resumed from its last checkpoint ends with the same
weights, bit for bit, as a run that was never interrupted (on CUDA: with deterministic kernels).

One optimiser step sees `cfg.batch` samples however it is computed: split over W processes (each
reads its own slice) and A accumulation steps, each forward pass sees batch / (W x A) of them, and
the loss of each is divided by A and the gradients averaged over the processes. Shard
s = rank x A + a is the a-th micro-batch of rank r, so W processes and A accumulation steps with
W x A = S read the same samples and draw the same contrastive views. The model, the encoders, the
EMA copy, the optimiser state and each micro-batch live on the runtime's device; `train_state.pt`
is read onto the CPU first, so a run saved on a GPU resumes on a CPU and the other way round.
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
from ..evaluation.devices import local_rank, peak_memory_gib, reset_peak_memory, resolve_device
from ..models.build import build_model
from ..models.checkpoint import save_model_dir
from ..models.files import STATE_FILE
from . import distributed as dist_utils
from .config import TrainConfig
from .curves import CurveRecorder
from .evaluation_plan import evaluation_plan
from .execution import execution_record
from .logs import TrainLog
from .losses import STAGE_LOSSES, get_loss
from .optim import build_optimizers, build_schedulers, step_schedulers
from .rng import rank_rng, restore_rng, rng_state
from .runs import default_run_dir, read_run, read_train_state, save_state
from .runtime import Runtime, autocast, check_precision, configure_backends, default_workers, make_scaler
from .step_outputs import as_float, final_output, has_grads, opt_params


class TrainingDiverged(ZooError):
    """The loss stopped being finite; the last good checkpoint is kept."""


class Trainer:
    """Trains one run into `run_dir`; `Trainer.resume(run_dir)` continues a killed one."""

    def __init__(
        self, cfg: TrainConfig, run_dir: Path | None = None, *, overwrite: bool = False,
        runtime: Runtime | None = None, initialise: bool = True,
    ) -> None:
        self.cfg = cfg.resolved()
        self.runtime = runtime if runtime is not None else Runtime()
        self.runtime.validate()
        self.run_dir = Path(run_dir) if run_dir is not None else default_run_dir(self.cfg)
        self.device = resolve_device(self.runtime.device, local_rank() if dist_utils.world_size() > 1 else None)
        check_precision(self.cfg.precision, self.device)
        configure_backends(self.device, self.runtime.tf32, self.runtime.deterministic)
        self.dist = dist_utils.setup(self.device)
        shards = self.dist.world * self.runtime.accum
        if self.cfg.batch % shards:  # type: ignore[operator]
            raise ZooError(
                f"--batch {self.cfg.batch} must be divisible by the {self.dist.world} process(es) x "
                f"{self.runtime.accum} accumulation step(s) = {shards}"
            )
        self.micro_batch = self.cfg.batch // shards  # type: ignore[operator]
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
            from ..models.convert import load_init

            load_init(self.model, self.cfg.backbone, self.cfg.config, self.cfg.init)
        self.model.to(self.device)  # built (and initialised) on the CPU: the same initial weights on every device
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
        self.guarded = [opt_params(o) for o in self.optimizers.values()]  # the explode guard clips each group
        self.schedulers = build_schedulers(self.cfg, self.optimizers)
        self.ema = self._make_ema()
        self.scaler = make_scaler(self.device, self.cfg.precision)
        if self.runtime.compile:
            backbone.compile()  # in place: parameter names, checkpoints and the EMA copy are unchanged
        self.archive = RainArchive()
        self.restoration = get_loss(self.cfg.loss)  # type: ignore[arg-type]
        self.step = 0
        self.wall_time = 0.0
        self.loop_time = 0.0  # wall-clock time of the training loop, data loading included
        self.peak_memory: float | None = None
        self.last_checkpoint = -1
        self.log = TrainLog()
        self.curves = CurveRecorder(evaluation_plan(self.cfg), self.run_dir)  # `--eval-every`: the learning curve
        self.run_record: dict[str, Any] = {}  # the `run` block of config.json as last written (or read on resume)
        self._resume_rng: tuple[Tensor, Tensor | None] | None = None

    @classmethod
    def resume(cls, run_dir: Path, iters: int | None = None, runtime: Runtime | None = None) -> Trainer:
        """Rebuild the run in `run_dir` from its config and continue from its last checkpoint,
        on the device `runtime` names (whatever device the run was saved from)."""
        run_dir = Path(run_dir)
        cfg, record = read_run(run_dir)
        state = read_train_state(run_dir)
        if iters is not None:
            cfg = replace(cfg, iters=iters)
        trainer = cls(cfg, run_dir, overwrite=True, runtime=runtime, initialise=False)
        trainer.run_record = record
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

    def state_dict(self, rng: list[tuple[Tensor, Tensor | None]] | None = None) -> dict[str, Any]:
        """Everything a resume needs; `rng` is every rank's RNG state (`checkpoint` gathers it), default this process's."""
        rng = rng if rng is not None else [rng_state(self.device)]
        return {
            "format_version": 1,
            "step": self.step,
            "wall_time": self.wall_time,
            "model": self.model.state_dict(),
            "optimizers": {k: v.state_dict() for k, v in self.optimizers.items()},
            "schedulers": {k: v.state_dict() for k, v in self.schedulers.items()},
            "archive": self.archive.state_dict(),
            "ema": None if self.ema is None else self.ema.state_dict(),
            "scaler": None if self.scaler is None else self.scaler.state_dict(),
            "rng": rng[0][0],  # rank 0's, as runs from before per-rank states were saved hold it
            "cuda_rng": rng[0][1],
            "rng_ranks": [cpu for cpu, _ in rng],  # each rank's own, restored by the same rank on resume
            "cuda_rng_ranks": [cuda for _, cuda in rng],
            "loop_time": self.loop_time,
            "peak_memory_gib": self.peak_memory,
            "history": self.log.history,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from `state`, wherever its tensors are: everything is copied to this trainer's device."""
        self.model.load_state_dict(state["model"])
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])  # moves the moments to the parameters' device
        for name, sched in self.schedulers.items():
            sched.load_state_dict(state["schedulers"][name])
        self.archive.load_state_dict({k: v.to(self.device) for k, v in state["archive"].items()})
        if self.ema is not None and state.get("ema") is not None:
            self.ema.load_state_dict(state["ema"])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        # Put back in `fit`, once the data loader has drawn its seed from the global RNG.
        self._resume_rng = rank_rng(state, self.dist.rank)
        self.step = int(state["step"])
        self.wall_time = float(state["wall_time"])
        self.loop_time = float(state.get("loop_time") or 0.0)
        self.peak_memory = state.get("peak_memory_gib")
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
        return DataLoader(
            dataset, batch_size=per_rank, sampler=sampler, num_workers=self.workers,
            pin_memory=self.device.type == "cuda", persistent_workers=self.workers > 0,
        )

    @property
    def workers(self) -> int:
        """DataLoader workers of this process: the runtime's, or a default from the CPU count."""
        if self.runtime.workers is not None:
            return self.runtime.workers
        return default_workers(self.device, dist_utils.local_world_size())

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
        """One optimiser step on this process's share of a global batch (split into `runtime.accum` micro-batches)."""
        cfg = self.cfg
        # Official `if step <= stage1_iters: stage 1`: stage 1 runs steps 0..stage1_iters inclusive.
        stage2 = self.coic and self.step > cfg.stage1_iters  # type: ignore[operator]
        if self.coic:
            self.model.modulation = stage2
        self.model.train()
        for opt in self.optimizers.values():
            opt.zero_grad(set_to_none=True)
        accum = self.runtime.accum
        size = batch["rainy"].shape[0]
        if size % accum:
            raise ZooError(f"a batch of {size} samples cannot be split into {accum} accumulation steps")
        micro = size // accum
        # The official pool is filled from step 0, stage 1 included, with this process's whole batch
        # (before it is split into micro-batches); without it, each micro-batch draws from itself only.
        pool = None
        if self.coic and cfg.rain_pool:
            pool = self.archive.push((batch["rainy"] - batch["clean"]).to(self.device, non_blocking=True))
        totals = torch.zeros(3, device=self.device)  # loss, restoration, contrast: sums over micro-batches
        peak_output = 0.0  # largest |restored| of the step, read by the explode guard
        for index in range(accum):
            part = {k: v[index * micro : (index + 1) * micro].to(self.device, non_blocking=True) for k, v in batch.items()}
            loss, restoration, contrast, largest = self._forward(
                part, stage2, pool, shard=self.dist.rank * accum + index, update_key=index == 0
            )
            scaled = loss / accum  # the mean over the micro-batches is the loss of the whole batch
            (scaled if self.scaler is None else self.scaler.scale(scaled)).backward()
            totals += torch.stack([loss.detach(), restoration.detach(), contrast.detach().float()])
            peak_output = max(peak_output, largest)
        totals /= accum
        if not dist_utils.all_finite(totals[0], self.dist):
            raise TrainingDiverged(
                f"the loss became {totals[0].item()} at step {self.step}; stopped. The last good checkpoint "
                f"(step {self.last_checkpoint}) is kept in {self.run_dir}; lower --set lr=... and --resume, or restart"
            )
        dist_utils.average_gradients(self.model, self.dist)
        # With a scaler, an optimiser whose parameters got no gradient (CoIC's in stage 1) is left out.
        scaled = [opt for opt in self.optimizers.values() if has_grads(opt)] if self.scaler is not None else []
        for opt in scaled:
            self.scaler.unscale_(opt)  # type: ignore[union-attr]  # clip and step on true gradients
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.clipped, cfg.grad_clip)
        # Decided once for all ranks (any rank over the threshold): their gradients are equal after averaging,
        # so a guard that fired on one rank only would step the ranks apart.
        guarded = bool(stage2 and cfg.explode_guard) and dist_utils.any_rank(peak_output > cfg.explode_guard, self.device, self.dist)
        if guarded:
            for params in self.guarded:  # train_DGUNet.py: clip_grad_norm_(..., 1e-8) per optimiser group
                torch.nn.utils.clip_grad_norm_(params, 1e-8)
        if self.scaler is None:
            for opt in self.optimizers.values():
                opt.step()
        else:
            for opt in scaled:
                self.scaler.step(opt)  # skipped when fp16 gradients overflowed
            self.scaler.update()
        step_schedulers(self.schedulers)  # every iteration, stepped or skipped
        dist_utils.sync_buffers(self.model, self.dist)
        if self.ema is not None:
            self.ema.update(self.model, step=self.step)
        self.step += 1
        loss_value, restoration_value, contrast_value = totals.tolist()
        logs = {"loss": loss_value, "restoration": restoration_value, "contrast": contrast_value, "stage": 2.0 if stage2 else 1.0}
        if cfg.explode_guard:
            logs["guarded"] = float(guarded)
        return logs

    def _forward(
        self, part: dict[str, Tensor], stage2: bool, pool: Tensor | None, shard: int, update_key: bool
    ) -> tuple[Tensor, Tensor, Tensor, float]:
        """(loss, restoration, contrast, largest |restored|) of one micro-batch; `shard` seeds its contrastive views."""
        cfg = self.cfg
        rainy, clean = part["rainy"], part["clean"]
        if cfg.channels_last:
            rainy = rainy.contiguous(memory_format=torch.channels_last)
        with autocast(self.device, cfg.precision):
            contrast = torch.zeros((), device=self.device)
            z = None
            if stage2:
                generator = torch.Generator().manual_seed(cfg.seed * 1_000_003 + self.step * 31 + shard)
                views = build_views(
                    part["rainy_full"], part["clean_full"], rainy, clean, pool, cfg.n_neg, generator,  # type: ignore[arg-type]
                    per_image=bool(cfg.per_image_views),
                )
                contrast, z = contrastive_loss(
                    self.model.encoder, self.model.key_encoder, views, cfg.temperature, update_key=update_key,
                    negatives=cfg.negatives,  # type: ignore[arg-type]
                )
            outputs = self._outputs(rainy, z)
        # Losses in float32: SSIM's variance terms cancel catastrophically in bfloat16 (measured: -inf by step 6).
        restoration = self.restoration(as_float(outputs), clean, rainy)
        loss = restoration + (cfg.contrast_weight or 0.0) * contrast.float()
        largest = float(final_output(outputs).detach().abs().max()) if stage2 and cfg.explode_guard else 0.0
        return loss, restoration, contrast, largest

    def export_model(self) -> nn.Module:
        """The weights to publish: the EMA copy when EMA is on, else the trained model."""
        return self.ema.module if self.ema is not None else self.model

    def checkpoint(self) -> None:
        """Write the resumable state, then the exported model, each atomically (rank 0 only)."""
        peak = peak_memory_gib(self.device)
        if peak is not None:
            self.peak_memory = max(peak, self.peak_memory or 0.0)
        rng = dist_utils.gather_objects(rng_state(self.device), self.dist)  # every rank takes part
        if self.dist.main:
            save_state(self.run_dir / STATE_FILE, self.state_dict(rng))
            complete = self.step >= self.cfg.iters
            self.run_record = {"step": self.step, "complete": complete, "wall_time_s": self.wall_time, **self.execution()}
            save_model_dir(self.export_model(), self.run_dir, {"train": self.cfg.as_dict(), "run": self.run_record})
        self.last_checkpoint = self.step
        dist_utils.barrier(self.dist)

    def execution(self) -> dict[str, Any]:
        """How the run was computed (stored in the `run` block of `config.json`); see `execution_record`."""
        return execution_record(self)

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
        reset_peak_memory(self.device)
        try:
            tick = time.perf_counter()
            batches = iter(loader)  # creating the iterator draws a seed from the global RNG ...
            if self._resume_rng is not None:  # ... so a resumed run's RNG is restored after it
                restore_rng(self._resume_rng, self.device)
                self._resume_rng = None
            for batch in batches:
                if self.step >= target:
                    break
                start = time.perf_counter()
                logs = self.train_step(batch)
                end = time.perf_counter()
                self.wall_time += end - start
                self.loop_time += end - tick
                bar.update(task, advance=1, loss=logs["loss"])
                if self.step % cfg.log_every == 0 or self.step == cfg.iters:
                    self.log.record(self.step, logs, self.optimizers["base"].param_groups[0]["lr"])
                if cfg.eval_every and self.dist.main and (self.step % cfg.eval_every == 0 or self.step == cfg.iters):
                    self.curves.record(self.export_model(), self.step, self.log)
                if self.step % cfg.ckpt_every == 0 or self.step == cfg.iters:
                    self.checkpoint()
                tick = time.perf_counter()
        finally:
            self.log.close()
            bar.remove_task(task)

    def close(self) -> None:
        dist_utils.teardown(self.dist)
