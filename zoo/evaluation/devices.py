"""Where tensors live: `--device auto|cpu|cuda[:i]|mps` resolved once, with one-line errors.

It sits in `evaluation/`, the lowest part that every user of a device imports (training, bench and
the CLI's `derain`), so there is one parser of `--device` and one description of a device in the
result rows. `auto` means CUDA when torch sees a GPU, else the CPU: the CPU stays the default of a
machine without one, and a GPU is used as soon as one is there. Under torchrun each process takes
`cuda:LOCAL_RANK`, one GPU per process.
"""

from __future__ import annotations

import os
import platform

import torch

from ..errors import ZooError

DEVICE_HELP = "auto (CUDA if available, else CPU), cpu, cuda, cuda:N or mps."


def local_rank() -> int | None:
    """This process's index on its machine under torchrun (`LOCAL_RANK`); None outside torchrun."""
    value = os.environ.get("LOCAL_RANK")
    return int(value) if value not in (None, "") else None


def resolve_device(spec: str | torch.device | None = "auto", rank: int | None = None) -> torch.device:
    """The torch device `spec` names, checked against what this machine has.

    `rank` is the process's local rank under torchrun: `auto` and a bare `cuda` then mean
    `cuda:rank`, and an explicit `cuda:N` is refused (every process would share one GPU).
    """
    text = str(spec if spec is not None else "auto").strip().lower()
    if text == "auto":
        text = "cuda" if torch.cuda.is_available() else "cpu"
    kind, _, index_text = text.partition(":")
    if kind == "cpu" and not index_text:
        return torch.device("cpu")
    if kind == "mps" and not index_text:
        if not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
            raise ZooError("--device mps: this machine has no Apple GPU torch can use; use --device cpu or auto")
        return torch.device("mps")
    if kind != "cuda" or (index_text and not index_text.isdigit()):
        raise ZooError(f"--device '{spec}' is not a device; use {DEVICE_HELP}")
    if not torch.cuda.is_available():
        built = "built without CUDA" if torch.version.cuda is None else f"CUDA {torch.version.cuda} build, but no GPU is visible"
        raise ZooError(f"--device {spec}: CUDA is not available (torch {torch.__version__}, {built}); use --device cpu or auto")
    count = torch.cuda.device_count()
    if index_text and rank is not None:
        raise ZooError(
            f"--device {spec} under torchrun would put every process on one GPU; pass --device cuda (or auto): "
            "process i takes cuda:LOCAL_RANK"
        )
    index = int(index_text) if index_text else (rank or 0)
    if index >= count:
        raise ZooError(f"--device cuda:{index}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}")
    return torch.device("cuda", index)


def device_name(device: torch.device | str) -> str:
    """A readable description for run records: `NVIDIA H200 (cuda:0)` or `cpu (x86_64, 2 threads)`."""
    device = torch.device(device)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"{torch.cuda.get_device_name(index)} (cuda:{index})"
    if device.type == "cpu":
        return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
    return device.type


def reset_peak_memory(device: torch.device) -> None:
    """Start a new peak-memory measurement (CUDA only; other devices have no allocator counter)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_gib(device: torch.device) -> float | None:
    """Peak memory torch allocated on `device` since the last reset, in GiB; None off CUDA.

    On the CPU there is no per-device counter (the process's peak RSS counts Python, the data and
    every earlier run of the process), so nothing is recorded rather than a misleading number.
    """
    if device.type != "cuda":
        return None
    return torch.cuda.max_memory_allocated(device) / 2**30


def synchronize(device: torch.device) -> None:
    """Wait for queued kernels, so a timing measures work done rather than work launched."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
