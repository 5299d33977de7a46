"""How a run is computed, as opposed to what it computes: device, data workers, accumulation, kernels.

A `TrainConfig` is the run's identity (its recipe, batch, precision, seed); a `Runtime` is how this
process executes it and may change between a start and a resume: a run started on a GPU continues
on a CPU, on more or fewer processes, or with more accumulation steps on a smaller GPU, and stays
the same run. The effective batch is `TrainConfig.batch` =
processes x accumulation steps x the micro-batch each forward pass sees.

Precision (fp32, bf16, fp16) belongs to the config because it changes the numbers; here are the
helpers that apply it: autocast for the forward pass (losses stay in float32), and a gradient
scaler for fp16, whose state goes into `train_state.pt`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from ..errors import ZooError

PRECISIONS = ("fp32", "bf16", "fp16")
AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
MAX_WORKERS = 8


@dataclass(frozen=True)
class Runtime:
    """Execution settings of one process; none of them is stored as part of the run's identity.

    device: `auto` (CUDA if available, else CPU), `cpu`, `cuda`, `cuda:N` or `mps`.
    workers: DataLoader worker processes; None picks `default_workers` for the device.
    accum: gradient-accumulation steps per optimiser step (the batch is split, not multiplied).
    tf32: TensorFloat-32 matmuls and convolutions on CUDA (about 2-8x faster fp32 on Ampere and later);
        a departure from the official scripts' fp32, on by default (off under `deterministic`).
    compile: `torch.compile` the backbone's forward.
    deterministic: the official numerics: IEEE fp32 (no TF32), no cuDNN autotuning, deterministic kernels
        (slower on CUDA; what bit-identical resume needs there).
    """

    device: str = "auto"
    workers: int | None = None
    accum: int = 1
    tf32: bool = True
    compile: bool = False
    deterministic: bool = False

    def validate(self) -> None:
        if self.accum < 1:
            raise ZooError(f"--accum {self.accum} must be at least 1")
        if self.workers is not None and self.workers < 0:
            raise ZooError(f"--workers {self.workers} must be 0 (load in the training process) or more")


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_workers(device: torch.device, local_world: int = 1) -> int:
    """DataLoader workers for one process: from the CPUs it may use, capped at `MAX_WORKERS`.

    With a GPU, the CPUs have nothing else to do: all but one of this process's share load data.
    On the CPU the training step itself uses the cores, so only one worker per 8 of them (none on a
    small machine, which keeps loading in the training process as before).
    """
    share = max(available_cpus() // max(local_world, 1), 1)
    if device.type == "cpu":
        return min(share // 8, 4)
    return min(max(share - 1, 1), MAX_WORKERS)


def backend_settings(device: torch.device, tf32: bool, deterministic: bool) -> dict[str, bool]:
    """The kernel choices `configure_backends` makes: `tf32` and cuDNN `benchmark` on CUDA unless
    `deterministic`, which gives the official scripts' numerics (IEEE fp32, no autotuning, deterministic
    kernels) whatever `tf32` says. TF32 and autotuning are our default departures from those scripts."""
    cuda = device.type == "cuda"
    return {"tf32": cuda and tf32 and not deterministic, "benchmark": cuda and not deterministic, "deterministic": deterministic}


def configure_backends(device: torch.device, tf32: bool, deterministic: bool) -> None:
    """Process-wide kernel choices for `device` (see `backend_settings`): TF32 and cuDNN autotuning on CUDA, or determinism."""
    settings = backend_settings(device, tf32, deterministic)
    tf32 = settings["tf32"]
    if device.type == "cuda":
        precision = "tf32" if tf32 else "ieee"
        if hasattr(torch.backends.cuda.matmul, "fp32_precision"):
            torch.backends.cuda.matmul.fp32_precision = precision
            torch.backends.cudnn.conv.fp32_precision = precision  # type: ignore[attr-defined]
        else:  # torch before 2.9
            torch.backends.cuda.matmul.allow_tf32 = tf32
            torch.backends.cudnn.allow_tf32 = tf32
        torch.backends.cudnn.benchmark = settings["benchmark"]  # fixed crops: autotuned convolutions pay off
    if deterministic:
        # cuBLAS needs this before its first call to be deterministic; set it for child processes too.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)


def check_precision(precision: str, device: torch.device) -> None:
    if precision not in PRECISIONS:
        raise ZooError(f"--precision {precision}: unknown; use {', '.join(PRECISIONS)}")
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ZooError(f"--precision bf16: {torch.cuda.get_device_name(device)} has no bfloat16 support; use fp16 or fp32")


@contextlib.contextmanager
def autocast(device: torch.device, precision: str) -> Iterator[None]:
    """Mixed-precision forward pass on `device` (nothing for fp32)."""
    dtype = AUTOCAST_DTYPES.get(precision)
    with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
        yield


def make_scaler(device: torch.device, precision: str) -> torch.amp.GradScaler | None:
    """The loss scaler fp16 needs (its gradients underflow without one); None for fp32 and bf16."""
    if precision != "fp16":
        return None
    return torch.amp.GradScaler(device.type)
