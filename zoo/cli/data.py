"""CLI commands about data: `zoo data synth`, `zoo data check`, `zoo data stats`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..errors import ZooError
from .progress import make_progress

console = Console()
err_console = Console(stderr=True)
data_app = typer.Typer(help="Datasets: write synthmix to disk, check real datasets, measure them.", no_args_is_help=True)


@data_app.command("synth")
def synth(
    out: Path = typer.Argument(..., help="Folder to write (Rain200 layout: <split>/rain, <split>/norain)."),
    domains: str = typer.Option("all", "--domains", help="Comma-separated synthmix domains, or all."),
    per_domain: int = typer.Option(16, "--per-domain", help="Pairs per domain."),
    seed: int = typer.Option(0, "--seed"),
    size: int = typer.Option(128, "--size", help="Image side in pixels."),
    split: str = typer.Option("test", "--split", help="train or test (different images)."),
) -> None:
    """Write synthmix pairs to disk, readable by the `paired` and `rain200l` loaders."""
    from ..data.synth import DOMAINS, write_synth

    names = list(DOMAINS) if domains.strip() == "all" else [d.strip() for d in domains.split(",") if d.strip()]
    if per_domain < 1:
        raise ZooError(f"--per-domain {per_domain} must be at least 1")
    with make_progress(console=console) as progress:
        task = progress.add_task("writing synthmix", total=per_domain * len(names))
        folder = write_synth(out, names, per_domain, seed, size, split, on_image=lambda: progress.advance(task))
    console.print(f"wrote {per_domain * len(names)} pairs to {folder} (domains listed in {folder / 'domains.csv'})")


@data_app.command("check")
def check(
    root: Path = typer.Argument(..., help="A folder holding one folder per dataset, or one dataset folder."),
    dataset: str | None = typer.Option(None, "--dataset", help="Check only this dataset (e.g. rain200h)."),
) -> None:
    """Compare what is on disk with what each dataset's layout expects, split by split."""
    from ..data.layouts import check_dataset, find_datasets

    found = {dataset: root} if dataset else find_datasets(root)
    if not found:
        raise ZooError(f"{root}: no known dataset folder found (Rain200L, Rain200H, Rain800, DID, DDN, spa); pass --dataset NAME for a single dataset folder")
    table = Table(title=f"datasets under {root}")
    for column in ("dataset", "split", "pairs / expected", "unpaired", "sizes (HxW)", "problems"):
        table.add_column(column)
    problems: list[str] = []
    for name, path in found.items():
        for split in ("train", "test"):
            report = check_dataset(name, path, split)
            sizes = f"{report.size_min[0]}x{report.size_min[1]} .. {report.size_max[0]}x{report.size_max[1]}" if report.size_min and report.size_max else "-"
            expected = report.expected if report.expected is not None else "?"
            table.add_row(name, split, f"{report.pairs} / {expected}", str(len(report.unpaired)), sizes, str(len(report.problems)) if report.problems else "ok")
            problems += list(report.problems)
    console.print(table)
    for line in problems:
        console.print(f"- {line}", highlight=False, soft_wrap=True)
    if problems:
        raise typer.Exit(code=1)


@data_app.command("stats")
def stats(
    root: Path = typer.Argument(..., help="A folder holding one folder per dataset."),
    split: str = typer.Option("test", "--split"),
    protocol: str = typer.Option("y-matlab", "--protocol", help="Metric protocol (see zoo.evaluation.metrics)."),
    store: Path | None = typer.Option(None, "--store", help="Also record the 'no derain' rows in this results store."),
    allow_partial: bool = typer.Option(False, "--allow-partial", help="Accept datasets with fewer pairs than expected."),
) -> None:
    """Mean input PSNR/SSIM (rainy vs clean) per dataset: the 'no derain' row of every table.

    A dataset that cannot be opened, or a pair that cannot be read, is reported and skipped; the
    others are still measured. Only datasets read completely are recorded in --store.
    """
    import numpy as np

    from ..data.layouts import find_datasets, open_dataset, read_pair
    from ..evaluation.metrics import get_protocol, score_batch

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
        table.add_row(name, str(len(scores)) if complete else f"{len(scores)} of {len(pairs)}", f"{psnr:.2f}", f"{ssim:.4f}")
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
