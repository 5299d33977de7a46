"""Options shared by the commands that run models: where (`--device`), how (`zoo train`, `zoo bench`), and
which model folders they accept (`--allow-random-encoder`)."""

from __future__ import annotations

from typing import Any

import typer

DEVICE = typer.Option("auto", "--device", help="auto (CUDA if available, else CPU), cpu, cuda, cuda:N or mps.")
WORKERS = typer.Option(
    None, "--workers", help="DataLoader worker processes (default: from the CPU count; 0 loads in the training process)."
)
ACCUM = typer.Option(1, "--accum", help="Gradient-accumulation steps: each forward pass sees batch / (processes x N) samples.")
TF32 = typer.Option(True, "--tf32/--no-tf32", help="TensorFloat-32 matmuls and convolutions on CUDA.")
COMPILE = typer.Option(False, "--compile", help="torch.compile the backbone (slow first steps, faster later ones).")
DETERMINISTIC = typer.Option(
    False, "--deterministic",
    help="The official numerics on CUDA: IEEE fp32 (no TF32), no cuDNN autotuning, deterministic kernels (bit-identical resume; slower).",
)
ALLOW_RANDOM_ENCODER = typer.Option(
    False, "--allow-random-encoder",
    help="Accept a CoIC folder without encoder.safetensors: z then comes from an untrained encoder, differs "
    "from run to run, and the results are labelled 'random encoder' (kept apart from metrics.json).",
)


def runtime(device: str, workers: int | None, accum: int, tf32: bool, compile: bool, deterministic: bool) -> Any:
    """The `zoo.training.runtime.Runtime` these options describe (imported here: it pulls in torch).

    The device is checked now, so a bench fails once with one line rather than once per cell.
    """
    from ..evaluation.devices import resolve_device
    from ..training.runtime import Runtime

    runtime = Runtime(device=device, workers=workers, accum=accum, tf32=tf32, compile=compile, deterministic=deterministic)
    runtime.validate()
    resolve_device(device)
    return runtime


def batch_line(execution: dict[str, Any]) -> str:
    """`batch 8` or `batch 8 = 2 processes x 2 accumulation steps x 2` from a trainer's `execution()`."""
    parts = []
    if execution["processes"] > 1:
        parts.append(f"{execution['processes']} processes")
    if execution["accum"] > 1:
        parts.append(f"{execution['accum']} accumulation steps")
    split = f" = {' x '.join(parts)} x {execution['micro_batch']}" if parts else ""
    return f"batch {execution['effective_batch']}{split}"
