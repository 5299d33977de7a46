"""The training log of a run: scalars every `log_every` steps, kept in the resumable state and in TensorBoard."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class TrainLog:
    """History rows (`step` plus the step's logs) and, on the main process, a TensorBoard writer."""

    def __init__(self, history: list[dict[str, float]] | None = None) -> None:
        self.history: list[dict[str, float]] = list(history or [])
        self._writer: Any = None

    def open(self, run_dir: Path) -> None:
        """Start writing TensorBoard events into `run_dir` (imported here: tensorboard is slow to import)."""
        from torch.utils.tensorboard import SummaryWriter

        self._writer = SummaryWriter(log_dir=str(run_dir))

    def record(self, step: int, logs: dict[str, float], lr: float) -> None:
        self.history.append({"step": float(step), **logs})
        if self._writer is not None:
            for key, value in logs.items():
                self._writer.add_scalar(f"train/{key}", value, step)
            self._writer.add_scalar("train/lr", lr, step)

    def record_eval(self, step: int, psnr: dict[str, float]) -> None:
        """Test-set PSNR at `step` (a learning-curve point) into TensorBoard, per test set and averaged."""
        if self._writer is not None:
            for name, value in psnr.items():
                self._writer.add_scalar(f"test/psnr/{name}", value, step)
            self._writer.add_scalar("test/psnr_average", sum(psnr.values()) / len(psnr), step)
            self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
