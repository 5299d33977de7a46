"""`zoo evaluate FILE.pth --data ...`: evaluate a checkpoint file without converting it by hand first."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape

from ..errors import ZooError

console = Console()


def evaluate_file(
    path: Path, data: str | None, root: Path | None, device: str, backbone: str | None, encoder: Path | None,
    baseline: bool, protocol: str | None,
) -> None:
    """Convert `path` into a temporary model folder, score it on `data`'s test sets and print the table."""
    from rich.table import Table

    from ..evaluation.evaluate_file import evaluate_checkpoint
    from ..evaluation.metric_table import format_value as fmt
    from ..evaluation.protocols import DEFAULT_PROTOCOL

    if data is None:
        raise ZooError(f"{path}: a checkpoint file has no training data to default to; pass --data (e.g. rain200h --root DIR, or synthmix)")
    result = evaluate_checkpoint(
        path, data, root, protocol or DEFAULT_PROTOCOL, backbone, encoder, baseline, device,
        on_set=lambda name, n: console.print(f"evaluating {name} ({n} images)", style="dim"),
    )
    table = Table(title=escape(f"{result['model']} on {data} — PSNR/SSIM protocol: {result['protocol']}"))
    for column in ("dataset", "n", "input PSNR", "output PSNR", "input SSIM", "output SSIM"):
        table.add_column(column, justify="left" if column == "dataset" else "right")
    for name, r in result["datasets"].items():
        table.add_row(name, str(r["n_images"]), *(fmt(m, r[m]) for m in ("input_psnr", "psnr", "input_ssim", "ssim")))
    console.print(table)
    if any(r["tiled"] for r in result["datasets"].values()):
        console.print("some images were processed in tiles (the backbone's official tiling)", style="dim")
