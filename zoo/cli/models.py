"""CLI commands about models: `zoo models`, `zoo info`, `zoo convert`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def _millions(n: int | None) -> str:
    return "-" if n is None else f"{n / 1e6:.3f}M"


def models(pattern: str = typer.Argument("*", help="fnmatch pattern, e.g. '*former*'.")) -> None:
    """List registered backbones with their parameter counts."""
    from ..catalog import list_models, model_info

    names = list_models(pattern)
    table = Table(title=f"coic-zoo backbones matching '{pattern}'")
    for column in ("name", "family", "params tiny", "params paper", "official"):
        table.add_column(column, no_wrap=True)
    table.add_column("paper", overflow="fold")
    for name in names:
        spec = model_info(name)
        paper_count = spec.num_params("paper")
        official = _millions(spec.paper_params)
        if spec.paper_params is not None:
            official += " ✓" if spec.paper_params == paper_count else " ≠"
        table.add_row(name, spec.family, _millions(spec.num_params("tiny")), _millions(paper_count), official, spec.paper)
    console.print(table)
    if not names:
        console.print(f"no backbone matches '{pattern}'; `zoo models` lists all of them")


def info(name: str = typer.Argument(..., help="Backbone name, e.g. brn.")) -> None:
    """Show one backbone's configs, parameter counts and provenance."""
    from ..catalog import model_info

    spec = model_info(name)
    table = Table(title=f"{spec.name} ({spec.family}) — {spec.paper}")
    table.add_column("config")
    table.add_column("arguments")
    table.add_column("params", justify="right")
    for config, kwargs in spec.configs.items():
        args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
        table.add_row(config, args, f"{spec.num_params(config):,}")
    console.print(table)
    if spec.paper_params is not None:
        console.print(f"official parameter count: {spec.paper_params:,} ({spec.paper_params_source})")
    if spec.coic_params_note:
        console.print(f"with CoIC: {spec.coic_params_note}")
    console.print(f"input: any size; padded internally to a multiple of {spec.pad_multiple}; minimum side {spec.min_size}")
    if spec.test_overrides:
        console.print(f"test-time settings: {spec.test_overrides}")


def convert(
    src: Path = typer.Argument(..., help="Official CoIC checkpoint (.pth state dict)."),
    backbone: str = typer.Option(..., "--backbone", "-b", help="Backbone the checkpoint belongs to."),
    out: Path = typer.Option(..., "--out", "-o", help="Model folder to write."),
    encoder: Path | None = typer.Option(
        None, "--encoder", "-e", help="Official encoder checkpoint (MoCo state dict, e.g. checkpoints/CoIC/brn_enc.pth)."
    ),
    baseline: bool = typer.Option(
        False, "--baseline", help="The checkpoint was trained without CoIC (mode 'normal'): ignore its modulation weights."
    ),
) -> None:
    """Convert an official CoIC checkpoint (and its encoder) into a model folder that `local-dir:OUT` loads."""
    from ..models.convert import convert_official

    _, summary = convert_official(src, backbone, out, encoder=encoder, baseline=baseline)
    console.print(
        f"converted {src} ({summary['kind']}, {summary['tensors']} tensors, {summary['params']:,} parameters) "
        f"-> {out}; load it with zoo.create_model('local-dir:{out}')"
    )


def register(app: typer.Typer) -> None:
    app.command("models")(models)
    app.command("info")(info)
    app.command("convert")(convert)
