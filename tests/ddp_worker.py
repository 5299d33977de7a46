"""Run under torchrun by test_training.py (gloo, CPU) and test_device.py (NCCL, `cuda` as 2nd argument).

Saves what each rank ends with:

1. EQUIVALENT: a baseline run (stage 1 only, no batch norm) whose weights, last averaged gradients
   and the sample indices each rank read are compared with one process training on the whole batch.
2. CONSISTENT: a CoIC run through stage 2, whose ranks must end with identical weights.
3. GUARDED: CONSISTENT with DGUNet's explode guard on, made to fire on rank 1 only (its forward passes
   report a huge output); the guard must clip on both ranks, whose weights stay identical, and each
   rank's RNG state must reach the checkpoint (and its own RNG state is saved beside it to compare).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

from zoo.data.mixing import MixedPatches
from zoo.training.config import TrainConfig
from zoo.training.runtime import Runtime
from zoo.training.trainer import Trainer

SMALL = {"crop": 32, "synth_count": 8, "synth_size": 48, "ckpt_every": 100, "log_every": 1}
EQUIVALENT = TrainConfig("brn", coic=False, iters=3, batch=8, **SMALL)  # world 2: 4 samples per rank and step
CONSISTENT = TrainConfig("brn", coic=True, iters=4, stage1_iters=2, batch=4, **SMALL)
GUARDED = TrainConfig("brn", coic=True, iters=4, stage1_iters=1, batch=4, explode_guard=1e6, **SMALL)
RUNTIME = Runtime(device="cpu", workers=0)
CUDA_RUNTIME = Runtime(device="cuda", workers=0, tf32=False, deterministic=True)


def record_indices() -> list[int]:
    """Make every sample read append its stream index to the returned list."""
    read: list[int] = []
    original = MixedPatches.__getitem__

    def recording(self: MixedPatches, k: int):  # type: ignore[no-untyped-def]
        read.append(int(k))
        return original(self, k)

    MixedPatches.__getitem__ = recording  # type: ignore[method-assign]
    return read


def fire_guard_on(rank: int) -> None:
    """Make `Trainer._forward` on `rank` report a restored image far above any explode guard."""
    forward = Trainer._forward

    def huge(self: Trainer, *args, **kwargs):  # type: ignore[no-untyped-def]
        loss, restoration, contrast, largest = forward(self, *args, **kwargs)
        return loss, restoration, contrast, (1e9 if self.dist.rank == rank and args[1] else largest)

    Trainer._forward = huge  # type: ignore[method-assign]


def save_trained(trainer: Trainer, path: Path) -> None:
    state = {k: v.detach().cpu().contiguous() for k, v in trainer.model.state_dict().items()}
    save_file(state, str(path.with_suffix(".safetensors")))
    grads = {k: p.grad.cpu().contiguous() for k, p in trainer.model.named_parameters() if p.grad is not None}
    save_file(grads, str(path.with_suffix(".grads.safetensors")))


if __name__ == "__main__":
    out = Path(sys.argv[1])
    runtime = CUDA_RUNTIME if sys.argv[2:] == ["cuda"] else RUNTIME
    read = record_indices()
    trainer = Trainer(EQUIVALENT, out / "equivalent", overwrite=True, runtime=runtime)
    trainer.fit()
    rank = trainer.dist.rank
    save_trained(trainer, out / f"equivalent-rank{rank}")
    (out / f"equivalent-rank{rank}.json").write_text(json.dumps(read))
    (out / f"equivalent-rank{rank}.device").write_text(str(trainer.device))
    consistent = Trainer(CONSISTENT, out / "consistent", overwrite=True, runtime=runtime)
    consistent.fit()
    save_trained(consistent, out / f"consistent-rank{rank}")
    fire_guard_on(1)
    guarded = Trainer(GUARDED, out / "guarded", overwrite=True, runtime=runtime)
    guarded.fit()
    save_trained(guarded, out / f"guarded-rank{rank}")
    (out / f"guarded-rank{rank}.json").write_text(json.dumps([row.get("guarded") for row in guarded.log.history]))
    save_file({"rng": torch.get_rng_state()}, str(out / f"guarded-rank{rank}.rng.safetensors"))  # nothing drew since the checkpoint
    guarded.close()
