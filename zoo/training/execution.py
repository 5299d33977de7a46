"""How a run was computed (the `run` block of `config.json`, read into result rows): device, batch split, speed."""

from __future__ import annotations

from typing import Any, Protocol

import torch

from ..evaluation.devices import device_name
from .config import TrainConfig
from .distributed import Dist
from .runtime import Runtime, backend_settings


class Computed(Protocol):
    """What `execution_record` reads of a run being trained (a `Trainer` is one).

    Declared here so this module names no trainer: the trainer imports it, never the other way round.
    """

    device: torch.device
    dist: Dist
    cfg: TrainConfig
    runtime: Runtime
    micro_batch: int
    step: int
    loop_time: float
    peak_memory: float | None

    @property
    def workers(self) -> int: ...


def execution_record(trainer: Computed) -> dict[str, Any]:
    """`images_per_s` counts the samples of every process per second of the training loop, data loading
    included; `peak_memory_gib` is the largest CUDA allocation of one process (None off CUDA); `tf32` is
    whether TF32 kernels were on (never with `--deterministic`, see `runtime.backend_settings`)."""
    name = device_name(trainer.device)
    world, cfg, runtime = trainer.dist.world, trainer.cfg, trainer.runtime
    return {
        "device": name if world == 1 else f"{world} x {name}",
        "processes": world,
        "accum": runtime.accum,
        "micro_batch": trainer.micro_batch,
        "effective_batch": cfg.batch,
        "precision": cfg.precision,
        "images_per_s": trainer.step * cfg.batch / trainer.loop_time if trainer.loop_time > 0 else None,  # type: ignore[operator]
        "peak_memory_gib": trainer.peak_memory,
        "workers": trainer.workers,
        "tf32": backend_settings(trainer.device, runtime.tf32, runtime.deterministic)["tf32"],
        "compile": runtime.compile,
    }
