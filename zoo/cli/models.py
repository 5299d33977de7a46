"""CLI commands about models: `zoo models`, `zoo info`, `zoo convert`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from ..errors import ZooError

if TYPE_CHECKING:
    from ..catalog import BackboneSpec
    from ..catalog.recipes import Recipe

console = Console()


def _millions(n: int | None) -> str:
    return "-" if n is None else f"{n / 1e6:.3f}M"


def models(pattern: str = typer.Argument("*", metavar="PATTERN", help="fnmatch pattern, e.g. '*former*'.")) -> None:
    """List registered backbones with their parameter counts."""
    from ..catalog import list_models, model_info

    names = list_models(pattern)
    table = Table(title=f"coic-zoo backbones matching '{pattern}'")
    for column in ("name", "family", "source", "licence", "params tiny", "params paper", "official"):
        table.add_column(column, no_wrap=column != "licence", overflow="fold")
    table.add_column("paper", overflow="fold")
    for name in names:
        spec = model_info(name)
        paper_count = spec.num_params("paper")
        official = _millions(spec.paper_params)
        if spec.paper_params is not None and spec.source == "zoo":
            official += " ✓" if spec.paper_params == paper_count else " ≠"
        table.add_row(
            name, spec.family, spec.source, spec.license, _millions(spec.num_params("tiny")), _millions(paper_count),
            official, spec.paper,
        )
    console.print(table)
    if any(model_info(name).source == "spandrel" for name in names):
        console.print("spandrel rows: the official count is the paper config built on spandrel's copy of the official code")
    if not names:
        console.print(f"no backbone matches '{pattern}'; `zoo models` lists all of them")


def info(name: str = typer.Argument(..., metavar="BACKBONE", help="Backbone name, e.g. brn.")) -> None:
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
    console.print(f"code: {spec.source}" + (f", upstream {spec.code}" if spec.code else "") + f"; licence: {spec.license}")
    for line in where_z_enters(spec):
        console.print(f"where z enters: {line}")
    if spec.notes:
        console.print(f"notes: {spec.notes}")
    for line in recipe_lines(spec.name):
        console.print(line, highlight=False, markup=False)


def recipe_lines(backbone: str) -> list[str]:
    """The paper recipe (the official script's settings) with its notes, how tiny differs, and the departures
    every recipe shares: what `zoo train BACKBONE --config paper` does and where it is not the official script."""
    from ..catalog.recipes import DEPARTURES, RECIPE_OPTIONS, SPA_PAPER, paper_recipe, tiny_recipe

    paper, tiny = paper_recipe(backbone), tiny_recipe(backbone)
    lines = [f"paper recipe ({paper.source}): {_recipe_text(paper)}"]
    lines += [f"  note: {note}" for note in paper.notes]
    if backbone in SPA_PAPER:
        lines.append(f"  note: {SPA_PAPER[backbone]['note']} (applied with --data mix5+spa)")
    switches = [f"{name}={getattr(paper, name)}" for name in RECIPE_OPTIONS]
    lines.append(f"  official switches: {', '.join(switches)} (`--set NAME=VALUE` departs from them)")
    lines.append(
        f"tiny recipe: batch {tiny.batch}, crop {tiny.crop}, {tiny.iters:,} iterations ({round(tiny.iters * tiny.stage1_fraction):,} "
        f"in stage 1){_decays(tiny)}; loss, optimiser, learning rate and contrastive weight {tiny.contrast_weight:g} as the paper recipe"
    )
    lines += [f"departure (every backbone): {line}" for line in DEPARTURES]
    return lines


def _recipe_text(r: Recipe) -> str:
    extras = f", weight decay {r.weight_decay:g}" if r.weight_decay else ""
    extras += f", gradient clip {r.grad_clip:g}" if r.grad_clip else ""
    return (
        f"{r.loss} loss, {r.optimizer} lr {r.lr:g}{extras}, batch {r.batch}, crop {r.crop}, {r.iters:,} iterations "
        f"({round(r.iters * r.stage1_fraction):,} in stage 1), {r.schedule} schedule{_decays(r)}; "
        f"restoration + {r.contrast_weight:g} x InfoNCE (n_neg {r.n_neg}, temperature {r.temperature:g})"
    )


def _decays(r: Recipe) -> str:
    if r.schedule != "multistep" or not r.milestones:
        return ""
    return f", x{r.gamma:g} at {'/'.join(f'{m:g}' for m in r.milestones)} of the run"


def where_z_enters(spec: BackboneSpec) -> list[str]:
    """Where CoIC's z enters a backbone, read off its card (nothing is built: `zoo info` imports no torch)."""
    lines = ["every convolution with a kernel > 1 is modulated (1x1 convolutions and PlainConv2d stay plain)"]
    if spec.context_points:
        lines += [f"its embedding is added to the {p.describe()}" for p in spec.context_points]
    elif spec.source == "zoo" and spec.family == "transformer":
        lines.append("its embedding enters at the ContextPoints its code places where attention inputs are formed")
    else:
        lines.append("no attention input: z acts through the modulated convolutions only")
    return lines


def convert(
    src: Path = typer.Argument(
        ..., metavar="CHECKPOINT", help="Official CoIC checkpoint, or any checkpoint spandrel reads (.pth, .ckpt, .safetensors)."
    ),
    backbone: str | None = typer.Option(
        None, "--backbone", "-b", help="Backbone the checkpoint belongs to (default: detected by spandrel)."
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Model folder to write (default: models/<file name>)."),
    encoder: Path | None = typer.Option(
        None, "--encoder", "-e", help="Official encoder checkpoint (MoCo state dict, e.g. checkpoints/CoIC/brn_enc.pth)."
    ),
    baseline: bool = typer.Option(
        False, "--baseline", help="The checkpoint was trained without CoIC (mode 'normal'): ignore its modulation weights."
    ),
) -> None:
    """Convert an official CoIC checkpoint (and its encoder), or a published checkpoint of a spandrel
    backbone, into a model folder that `local-dir:OUT` loads."""
    from ..catalog import model_info

    out = out if out is not None else Path("models") / src.stem
    if backbone is not None and model_info(backbone).source == "zoo":
        from ..models.convert import convert_official

        _, summary = convert_official(src, backbone, out, encoder=encoder, baseline=baseline)
        kind = summary["kind"]
    else:
        from ..models.convert import convert_external

        if encoder is not None or baseline:
            raise ZooError("--encoder and --baseline are for official CoIC checkpoints of our five backbones; pass --backbone NAME")
        _, summary = convert_external(src, out, backbone)
        kind = f"{summary['backbone']}, read by spandrel"
    console.print(
        f"converted {src} ({kind}, {summary['tensors']} tensors, {summary['params']:,} parameters) "
        f"-> {out}; load it with zoo.create_model('local-dir:{out}')"
    )


def register(app: typer.Typer) -> None:
    app.command("models")(models)
    app.command("info")(info)
    app.command("convert")(convert)
