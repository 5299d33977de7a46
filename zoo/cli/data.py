"""CLI commands about data: `zoo data synth`, `zoo data check`, `zoo data stats`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .. import defaults
from ..errors import ZooError
from .deprecations import deprecated
from .progress import make_progress

console = Console()
err_console = Console(stderr=True)
data_app = typer.Typer(help="Datasets: write synthmix to disk, check real datasets, measure them.", no_args_is_help=True)


@data_app.command("synth")
def synth(
    ctx: typer.Context,
    out: Path = typer.Argument(..., metavar="OUT", help="Folder to write (see above for what goes where)."),
    domains: str = typer.Option("all", "--domains", help="Comma-separated synthmix domains, or all."),
    per_set: int = typer.Option(16, "--per-set", help="Pairs per domain, each domain being one test set (procedural backgrounds only)."),
    per_domain: int | None = typer.Option(None, "--per-domain", hidden=True, help="Deprecated: --per-set."),
    seed: int = typer.Option(0, "--seed", help="Same inputs and seed, same bytes; another seed, other rain (and crops)."),
    size: int = typer.Option(128, "--size", help="Image side in pixels (procedural backgrounds only)."),
    split: str = typer.Option("test", "--split", help="train or test (different images)."),
    backgrounds: Path | None = typer.Option(None, "--backgrounds", help="Render the rain over your own clean photos in this folder (PNG, JPEG, ...)."),
    crop: int | None = typer.Option(None, "--crop", help="With --backgrounds: one random N x N crop per photo (by --seed) instead of the whole photo."),
    crops: int = typer.Option(1, "--crops", help="With --crop: this many random crops per photo."),
    centre: bool = typer.Option(False, "--centre", help="With --crop: the centre crop instead of a random one."),
    tile: int | None = typer.Option(None, "--tile", help="With --backgrounds: every non-overlapping N x N tile of each photo."),
) -> None:
    """Write synthmix pairs to disk, readable by the `paired` and `rain200l` loaders.

    Procedural backgrounds (default): OUT/<split>/rain/norain-<i>x2.png and OUT/<split>/norain/norain-<i>.png,
    --per-set pairs of each domain at --size, and OUT/<split>/domains.csv.

    With --backgrounds DIR, every chosen domain's rain over every cut of every photo in DIR (the whole
    photo, --crop N or --tile N), written as:

    OUT/Rain200L/<split>/rain/norain-<i>x2.png + OUT/Rain200L/<split>/norain/norain-<i>.png: all domains, i = 1..N;

    OUT/Rain200L/manifest.csv: one row per pair (files, domain, photo, crop box, seed, every rain value drawn);

    OUT/domains/<domain>/Rain200L/: the same for one domain (i = 1..n), with its own manifest.csv.

    Train on all domains with `zoo train brn --data rain200l --root OUT`, on one with --root OUT/domains/<domain>
    (the manifest sets the pair count, so no --allow-partial); `zoo data check OUT` checks it. Rerunning a split
    replaces that split; write --split train and --split test from different photos.
    """
    from ..data.synth import DOMAINS, write_synth

    if per_domain is not None:
        deprecated("zoo data synth --per-domain", "zoo data synth --per-set")
        per_set = per_domain
    names = list(DOMAINS) if domains.strip() == "all" else [d.strip() for d in domains.split(",") if d.strip()]
    photo_options = {"--crop": crop is not None, "--tile": tile is not None, "--crops": crops != 1, "--centre": centre}
    if backgrounds is not None:
        _write_over_backgrounds(ctx, out, backgrounds, names, seed, split, crop, crops, centre, tile)
        return
    given = [flag for flag, used in photo_options.items() if used]
    if given:
        raise ZooError(f"{given[0]} cuts your own photos: it needs --backgrounds DIR")
    if per_set < 1:
        raise ZooError(f"--per-set {per_set} must be at least 1")
    with make_progress(console=console) as progress:
        task = progress.add_task("writing synthmix", total=per_set * len(names))
        folder = write_synth(out, names, per_set, seed, size, split, on_image=lambda: progress.advance(task))
    console.print(f"wrote {per_set * len(names)} pairs to {folder} (domains listed in {folder / 'domains.csv'})")


def _write_over_backgrounds(
    ctx: typer.Context, out: Path, backgrounds: Path, names: list[str], seed: int, split: str,
    crop: int | None, crops: int, centre: bool, tile: int | None,
) -> None:  # fmt: skip
    """`zoo data synth --backgrounds`: refuse the procedural-only options, write, say where and how to use it."""
    from ..data.layouts import declared_pairs
    from ..data.synth.cuts import make_cut
    from ..data.synth.folders import combined_folder
    from ..data.synth.over_photos import write_over_backgrounds

    for option, flag in (("per_set", "--per-set"), ("per_domain", "--per-domain"), ("size", "--size")):
        source = ctx.get_parameter_source(option)
        if source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP"):
            raise ZooError(f"{flag} is for procedural backgrounds; with --backgrounds use --crop N, --tile N or whole photos")
    cut = make_cut(crop, tile, crops, centre)
    with make_progress(console=console) as progress:
        written = write_over_backgrounds(out, backgrounds, names, cut, seed, split, progress=progress)
    folder = combined_folder(out)
    held = declared_pairs(folder) or {}
    console.print(
        escape(
            f"wrote {written.pairs} {split} pairs ({written.boxes} cuts of {written.photos} photos x {len(names)} domains) "
            f"to {folder} (now {', '.join(f'{s} {n}' for s, n in held.items())}), one folder per domain in "
            f"{out / 'domains'}; rain parameters in {folder / 'manifest.csv'}"
        ),
        highlight=False, soft_wrap=True,
    )
    if "train" in held:
        evaluate = "" if "test" in held else " --no-evaluate (or write a test split: --split test)"
        console.print(escape(f"train on it: zoo train brn --data rain200l --root {out}{evaluate}"), highlight=False, soft_wrap=True)


@data_app.command("check")
def check(
    root: Path = typer.Argument(..., metavar="ROOT", help="A folder holding one folder per dataset, or one dataset folder (its layout is recognised)."),
    dataset: str | None = typer.Option(None, "--dataset", help="Check ROOT against this layout (e.g. rain200h, paired) instead of recognising it."),
) -> None:
    """Compare what is on disk with what each dataset's layout expects, split by split.

    Without --dataset, dataset folders under ROOT are recognised by their names (Rain200L, DDN-Data, ...);
    otherwise ROOT itself is one dataset folder, recognised by its file names. When two layouts fit,
    it names both: pass --dataset. A folder whose manifest.csv lists its pairs is held to that list.
    """
    from ..data.layouts import check_dataset, plan_check

    found = plan_check(root, dataset)
    for item in found:
        console.print(escape(f"{item.name}: {item.folder} ({item.why})"), highlight=False, soft_wrap=True)
    table = Table(title=f"datasets under {root}")
    for column in ("dataset", "split", "pairs / expected", "unpaired", "sizes (HxW)", "problems"):
        table.add_column(column)
    problems: list[str] = []
    with make_progress(console=console, transient=True) as progress:
        for item in found:
            for split in item.splits:
                report = check_dataset(item.name, item.folder, split, progress=progress)
                sizes = f"{report.size_min[0]}x{report.size_min[1]} .. {report.size_max[0]}x{report.size_max[1]}" if report.size_min and report.size_max else "-"
                expected = report.expected if report.expected is not None else "?"
                table.add_row(item.name, split, f"{report.pairs} / {expected}", str(len(report.unpaired)), sizes, str(len(report.problems)) if report.problems else "ok")
                problems += list(report.problems)
    console.print(table)
    for line in problems:
        console.print(f"- {line}", highlight=False, soft_wrap=True)
    if problems:
        raise typer.Exit(code=1)


@data_app.command("stats")
def stats(
    root: Path = typer.Argument(..., metavar="ROOT", help="A folder holding one folder per dataset."),
    split: str = typer.Option("test", "--split"),
    protocol: str = typer.Option(defaults.PROTOCOL, "--protocol", help="Metric protocol (see zoo.evaluation.protocols)."),
    store: Path | None = typer.Option(None, "--store", help="Also record the 'no derain' rows in this results store."),
    allow_partial: bool = typer.Option(False, "--allow-partial", help="Accept datasets with fewer pairs than expected."),
) -> None:
    """Mean input PSNR/SSIM (rainy vs clean) per dataset: the 'no derain' row of every table.

    A dataset that cannot be opened, or a pair that cannot be read, is reported and skipped; the
    others are still measured. Only datasets read completely are recorded in --store.
    """
    import numpy as np

    from ..data.layouts import find_datasets, open_dataset, read_pair
    from ..evaluation.metric_table import format_value as fmt
    from ..evaluation.metrics import score_batch
    from ..evaluation.protocols import get_protocol

    get_protocol(protocol)
    found = find_datasets(root)
    if not found:
        raise ZooError(f"{root}: no known dataset folder found; see `zoo data check {root}`")
    table = Table(title=f"input (no derain) PSNR/SSIM, {split} split, protocol {protocol}")
    for column in ("dataset", "n", "PSNR", "SSIM"):
        table.add_column(column)
    rows = []
    failures: list[str] = []
    for name, path in found.items():
        try:
            pairs = open_dataset(name, path, split, allow_partial=allow_partial)
        except ZooError as err:
            failures.append(str(err))
            continue
        scores = []
        for pair in pairs.pairs:
            try:
                rainy, clean = read_pair(pair)
                scores.append(score_batch(rainy, clean, protocol)[0])
            except ZooError as err:  # unreadable, mismatched, or too small to score
                failures.append(str(err) if str(pair.rainy) in str(err) else f"{pair.rainy}: {err}")
        if not scores:
            continue
        psnr, ssim = float(np.mean([s["psnr"] for s in scores])), float(np.mean([s["ssim"] for s in scores]))
        complete = len(scores) == len(pairs)
        table.add_row(name, str(len(scores)) if complete else f"{len(scores)} of {len(pairs)}", fmt("psnr", psnr), fmt("ssim", ssim))
        if not complete:
            continue
        for metric, value in (("psnr", psnr), ("ssim", ssim)):
            rows.append({"run": "no-derain", "backbone": "input", "config": "-", "method": "no-derain", "train_data": "-",
                         "eval_dataset": name, "metric": metric, "protocol": protocol, "value": value,
                         "n_images": len(scores), "seed": 0, "source": "measured"})
    console.print(table)
    for line in failures:
        err_console.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
    if store is not None and rows:
        from ..results.store import ResultsStore

        ResultsStore(store).append(rows)
        console.print(f"recorded {len(rows)} rows in {store}")
    if failures:
        raise ZooError(f"{len(failures)} dataset(s) or pair(s) could not be read; see the lines above (`zoo data check {root}` lists every problem)")


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
