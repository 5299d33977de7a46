"""`zoo export`: write a model as one ONNX graph, for deployment without PyTorch."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console

from .. import defaults
from .._atomic import ensure_folder, human_bytes
from ..errors import ZooError
from .progress import make_progress

console = Console()
err_console = Console(stderr=True)
FORMATS = ("onnx",)


def _check_out(out: Path) -> None:
    """Refuse an --out that cannot be written before minutes of tracing, not after."""
    if out.is_dir():
        raise ZooError(f"--out {out} is a folder; name the .onnx file to write")
    folder = ensure_folder(out.parent if str(out.parent) else Path("."))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ZooError(f"--out {out}: cannot write in {folder} (permission denied); choose a folder you may write to")


def export(
    model: str = typer.Argument(..., metavar="MODEL", help="Any model name: brn.coic_synthmix, hf-hub:ORG/REPO, local-dir:PATH, or a backbone (untrained)."),
    format: str = typer.Option("onnx", "--format", help="File format: onnx."),
    out: Path = typer.Option(..., "--out", "-o", help="File to write, e.g. brn.onnx."),
    size: str | None = typer.Option(
        None, "--size", help="HxW: fix the input size (default: dynamic height and width where the backbone allows it)."
    ),
    opset: int | None = typer.Option(
        None, "--opset", min=7, help="ONNX opset (default: torch's exporter's; CoIC needs 18 or later for its antialiased resize)."
    ),
    coic: bool = typer.Option(False, "--coic", help="With a backbone name: build it with CoIC."),
    config: str = typer.Option(defaults.CONFIG, "--config", help="With a backbone name: tiny or paper."),
) -> None:
    """Export a model to ONNX: a 1 x 3 x H x W image in [0, 1] in, the derained image out (not clamped).

    The batch is fixed to 1: CoIC's per-instance convolutions fold the batch into the group count of
    one convolution, a static attribute in ONNX. For a CoIC model the encoder is inside the graph, so
    z is computed from the whole input as in PyTorch. The graph is checked with onnxruntime against
    PyTorch before it is written. Run it with `zoo derain FILE.onnx IMAGES... --engine onnxruntime`.
    """
    from ..models.export import export_onnx, parse_size, require_export
    from ..models.factory import create_model

    if format not in FORMATS:
        raise ZooError(f"--format {format}: unknown format; choose one of: {', '.join(FORMATS)}")
    fixed = parse_size(size) if size is not None else None
    _check_out(out)
    require_export()  # before the model loads: a missing extra fails at once
    net = create_model(model, coic=coic, config=config)
    with make_progress(True, err_console, transient=True) as progress:
        result = export_onnx(net, out, size=fixed, opset=opset, label=model, progress=progress)
    shape = (
        f"fixed input 1 x 3 x {fixed[0]} x {fixed[1]}"
        if fixed
        else f"input 1 x 3 x H x W, any H, W >= {result.min_side}"
    )
    worst = max(result.checks.values())
    sizes = ", ".join(f"{h}x{w}" for h, w in result.checks)
    console.print(
        f"wrote {out} ({human_bytes(out.stat().st_size)}, opset {result.opset}): {shape}; "
        f"onnxruntime matches PyTorch to {worst:.1e} at {sizes} ({result.seconds:.0f} s)",
        highlight=False,
        soft_wrap=True,
    )
    if result.rounding_spread:
        err_console.print(
            f"[bold yellow]warning:[/] PyTorch's own output moves by up to {result.rounding_spread:.1e} when each pixel "
            "moves by one float32 step, so the check cannot tell more: the model is numerically unstable (untrained?)",
            highlight=False,
            soft_wrap=True,
        )


def register(app: typer.Typer) -> None:
    app.command("export")(export)
