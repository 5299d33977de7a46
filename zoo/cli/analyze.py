"""`zoo analyze ...`: the CoIC paper's analyses of one run or model folder, as figures (PNG) and numbers (CSV).

Thin commands over `zoo.analysis`: they load the run, call the analysis, print its table and the
files written, with a progress bar on stderr while the analysis runs. Outputs go to RUN/analysis/ unless
--out says otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from .. import defaults
from . import options
from .deprecations import deprecated
from .progress import make_progress

console = Console()
err_console = Console(stderr=True)

analyze = typer.Typer(
    name="analyze",
    help="The paper's analyses of a run: embeddings, rain vs detail, modulation temperature, cost.",
    no_args_is_help=True,
)

RUN_HELP = "A run directory (`zoo train`) or model folder (`zoo convert`, `zoo pull`)."
OUT_HELP = "Folder for the PNG and CSV files (default RUN/analysis)."
DATA_HELP = "Test sets: synthmix (its domains), mix5, or names like rain200l,ddn (default: the run's data)."
ROOT_HELP = "Folder holding one folder per real dataset (default: the run's)."
PROGRESS = typer.Option(True, "--progress/--no-progress", help="Progress bar on stderr while the analysis runs.")
PER_SET = typer.Option(None, "--per-set", help=f"Images per test set, a dataset or synthmix domain (default: the run's eval_count, {defaults.EVAL_COUNT}).")
PER_DATASET = typer.Option(None, "--per-dataset", hidden=True, help="Deprecated: --per-set.")


RANDOM_OUT = "analysis-random-encoder"


def _out(run: Path, out: Path | None, source: Any = None) -> Path:
    """`--out`, else RUN/analysis; with a random encoder RUN/analysis-random-encoder, so nothing there is mistaken for the run's."""
    random = source is not None and source.random_encoder
    folder = out if out is not None else Path(run) / (RANDOM_OUT if random else "analysis")
    if random:
        console.print(f"note: {run} has no encoder.safetensors: z comes from a randomly initialised encoder "
                      f"(--allow-random-encoder); outputs go to {folder}", highlight=False)
    return folder


def _load(run: Path, allow_random_encoder: bool, device: str) -> Any:
    """The run's `zoo.analysis.source.AnalysedModel`, its model on `device`; the device is checked first, so a
    wrong --device fails in one line before the model loads."""
    from ..analysis.source import load_source
    from ..evaluation.devices import resolve_device

    where = resolve_device(device)
    source = load_source(run, allow_random_encoder)
    source.model.to(where)
    return source


def _per_set(per_set: int | None, per_dataset: int | None, command: str) -> int | None:
    """--per-set, or the old --per-dataset with its deprecation note."""
    if per_dataset is None:
        return per_set
    deprecated(f"zoo analyze {command} --per-dataset", f"zoo analyze {command} --per-set")
    return per_dataset


def _table(frame, heading: str, columns: list[str], formats: dict[str, str] | None = None) -> None:
    formats = formats or {}
    table = Table(title=heading, title_justify="left")
    for column in columns:
        table.add_column(column, justify="left" if frame[column].dtype == object else "right")
    for row in frame[columns].itertuples(index=False):
        table.add_row(*(formats.get(c, "{}").format(v) if not isinstance(v, str) else v for c, v in zip(columns, row)))
    console.print(table)


def _written(files: list[Path]) -> None:
    for path in files:
        console.print(f"wrote {path}", highlight=False)


@analyze.command("embeddings")
def embeddings_cmd(
    run: Path = typer.Argument(..., metavar="RUN", help=RUN_HELP),
    data: str | None = typer.Option(None, "--data", help=DATA_HELP),
    root: Path | None = typer.Option(None, "--root", help=ROOT_HELP),
    per_set: int | None = PER_SET,
    per_dataset: int | None = PER_DATASET,
    method: str = typer.Option("umap", "--method", help="2-D projection: umap (the official choice) or tsne."),
    clean: bool = typer.Option(True, "--clean/--no-clean", help="Also embed clean images (detail-aware training sets them apart)."),
    untrained: bool = typer.Option(False, "--untrained", help="Use a freshly initialised encoder instead: the control."),
    seed: int = typer.Option(0, "--seed", help="Seed of the projection (and of the untrained encoder)."),
    out: Path | None = typer.Option(None, "--out", "-o", help=OUT_HELP),
    progress: bool = PROGRESS,
    device: str = options.DEVICE,
    allow_random_encoder: bool = options.ALLOW_RANDOM_ENCODER,
) -> None:
    """z of each dataset's images: 2-D projection, dataset-relationship heatmap, separability per dataset."""
    from ..analysis.embeddings import analyze_embeddings

    count = _per_set(per_set, per_dataset, "embeddings")
    source = _load(run, allow_random_encoder, device)
    with make_progress(progress, err_console, transient=True) as bar:
        result = analyze_embeddings(source, _out(run, out, source), data, root, count, method, clean, untrained, seed, bar)
    what = "untrained encoder (control)" if untrained else "key encoder"
    _table(result.tables["separability"], f"{source.name}: separability of z ({what}), cosine, leave-one-out",
           ["group", "n", "nearest_centroid_accuracy", "silhouette", "chance"],
           {"nearest_centroid_accuracy": "{:.1%}", "silhouette": "{:.3f}", "chance": "{:.1%}"})
    _written(result.files)


@analyze.command("rain-detail")
def rain_detail_cmd(
    run: Path = typer.Argument(..., metavar="RUN", help=RUN_HELP),
    repeats: int = typer.Option(3, "--repeats", help="Backgrounds / streak seeds per sweep."),
    size: int | None = typer.Option(None, "--size", help=f"Sweep image side (default: the run's eval_size, {defaults.EVAL_SIZE})."),
    store: Path | None = typer.Option(None, "--store", help="Results store holding --negatives ablation runs of this recipe."),
    data: str | None = typer.Option(None, "--data", help="Test sets whose z spread is the distance unit (default: the run's)."),
    root: Path | None = typer.Option(None, "--root", help=ROOT_HELP),
    out: Path | None = typer.Option(None, "--out", "-o", help=OUT_HELP),
    progress: bool = PROGRESS,
    device: str = options.DEVICE,
    allow_random_encoder: bool = options.ALLOW_RANDOM_ENCODER,
) -> None:
    """Controlled sweeps (rain density, width, angle; background detail): how far z moves, how PSNR follows."""
    from ..analysis.rain_detail import analyze_rain_detail

    source = _load(run, allow_random_encoder, device)
    with make_progress(progress, err_console, transient=True) as bar:
        result = analyze_rain_detail(source, _out(run, out, source), repeats, size, store, data, root, progress=bar)
    _table(result.tables["summary"], f"{source.name}: z movement per factor (1.0 = two typical test images apart), PSNR ({source.protocol})",
           ["factor", "z_move_mean", "z_move_max", "psnr_range", "input_psnr_range", "corr_z_psnr"],
           {"z_move_mean": "{:.3f}", "z_move_max": "{:.3f}", "psnr_range": "{:.2f}", "input_psnr_range": "{:.2f}", "corr_z_psnr": "{:+.2f}"})
    if "ablation" in result.tables:
        ablation = result.tables["ablation"].pivot_table(index="eval_dataset", columns="negatives", values="psnr").reset_index()
        ablation.columns = [str(c) for c in ablation.columns]
        _table(ablation, "ablation from the results store: output PSNR by --negatives", list(ablation.columns),
               {c: "{:.2f}" for c in ablation.columns})
    elif store is not None:
        console.print(f"{store}: no rows of this recipe trained with --negatives rain/detail yet", style="dim")
    _written(result.files)


@analyze.command("temperature")
def temperature_cmd(
    run: Path = typer.Argument(..., metavar="RUN", help=RUN_HELP),
    data: str | None = typer.Option(None, "--data", help=DATA_HELP),
    root: Path | None = typer.Option(None, "--root", help=ROOT_HELP),
    per_set: int | None = PER_SET,
    per_dataset: int | None = PER_DATASET,
    out: Path | None = typer.Option(None, "--out", "-o", help=OUT_HELP),
    progress: bool = PROGRESS,
    device: str = options.DEVICE,
    allow_random_encoder: bool = options.ALLOW_RANDOM_ENCODER,
) -> None:
    """Per dataset and modulated layer, the official temperature statistic (mean log T) and its spread."""
    from ..analysis.temperature import analyze_temperature

    count = _per_set(per_set, per_dataset, "temperature")
    source = _load(run, allow_random_encoder, device)
    with make_progress(progress, err_console, transient=True) as bar:
        result = analyze_temperature(source, _out(run, out, source), data, root, count, bar)
    per_image = result.tables["main"]
    per_dataset_table = per_image.groupby("dataset", sort=False)["log_temperature"].agg(["mean", "std", "min", "max"]).reset_index()
    per_dataset_table["layers"] = per_image["layer_index"].nunique()
    _table(per_dataset_table, f"{source.name}: mean log temperature over layers and images",
           ["dataset", "layers", "mean", "std", "min", "max"], {k: "{:.3f}" for k in ("mean", "std", "min", "max")})
    _written(result.files)


@analyze.command("cost")
def cost_cmd(
    run: Path = typer.Argument(..., metavar="RUN", help=RUN_HELP),
    size: int = typer.Option(256, "--size", help="Image side for MACs and timing."),
    repeats: int = typer.Option(5, "--repeats", help="Timed forward passes per variant."),
    warmup: int = typer.Option(2, "--warmup", help="Untimed forward passes first."),
    out: Path | None = typer.Option(None, "--out", "-o", help=OUT_HELP),
    progress: bool = PROGRESS,
    device: str = options.DEVICE,
    allow_random_encoder: bool = options.ALLOW_RANDOM_ENCODER,
) -> None:
    """Parameters, MACs and time per image: baseline vs CoIC of this run's backbone and config, on --device."""
    from ..analysis.cost import analyze_cost

    source = _load(run, allow_random_encoder, device)
    with make_progress(progress, err_console, transient=True) as bar:
        result = analyze_cost(source, _out(run, out, source), size, repeats, warmup, bar)
    table = result.tables["main"].copy()
    table["params (M)"] = table["params"] / 1e6
    table["GMACs"] = table["macs"].astype(float) / 1e9
    table["ms / image"] = table["seconds_median"] * 1e3
    _table(table, f"{source.name}: cost per {size}x{size} image on {table['device'].iloc[0]}",
           ["variant", "params (M)", "GMACs", "ms / image"], {"params (M)": "{:.3f}", "GMACs": "{:.3f}", "ms / image": "{:.1f}"})
    ratios = ", ".join(f"{k.replace('_ratio', '')} x{v:.3f}" for k, v in result.summary.items())
    console.print(f"CoIC / baseline: {ratios}")
    _written(result.files)


def register(app: typer.Typer) -> None:
    app.add_typer(analyze, name="analyze")
