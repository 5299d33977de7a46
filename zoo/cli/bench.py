"""`zoo bench`: train and evaluate every cell of an experiment matrix into a results store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from ..errors import ZooError
from ..results.store import DEFAULT_STORE
from . import options
from .deprecations import deprecated
from .progress import make_progress

console = Console()
notes = Console(stderr=True)  # status lines, kept out of a leaderboard printed to stdout


def bench(
    matrix: Path = typer.Argument(..., metavar="MATRIX", help="Matrix YAML: backbones, methods, data, seeds, config, settings."),
    shard: str | None = typer.Option(None, "--shard", help="i/n: run only the cells whose index % n == i-1 (1 <= i <= n)."),
    resume_cells: bool = typer.Option(
        False, "--resume-cells", help="Continue cells interrupted mid-training from their last checkpoint (finished cells are always skipped).",
    ),
    resume: bool = typer.Option(False, "--resume", hidden=True, help="Deprecated: --resume-cells."),
    store: Path = typer.Option(DEFAULT_STORE, "--store", help="Results store folder the rows are appended to."),
    runs: Path | None = typer.Option(None, "--runs", help="Folder of the run directories (default runs/<matrix name>)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the shard's cells and their state; train nothing."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
    device: str = options.DEVICE,
    workers: int | None = options.WORKERS,
    accum: int = options.ACCUM,
    tf32: bool = options.TF32,
    compile: bool = options.COMPILE,
    deterministic: bool = options.DETERMINISTIC,
) -> None:
    """Train and evaluate every cell of a matrix (backbone x method x data x seed) into the results store.

    Finished cells are skipped: a killed bench re-run with --resume-cells neither redoes nor duplicates them.

    Shards (--shard 1/n ... n/n) share one --store, or their store folders are copied together.
    """
    import os

    from ..bench import default_runs, load_matrix, parse_shard, plan, run_bench

    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise ZooError(
            "zoo bench runs its cells one process at a time; do not start it under torchrun: give each GPU "
            "its own shard (--shard i/n), or train one cell on several GPUs with `torchrun ... -m zoo train`"
        )
    if resume:
        deprecated("zoo bench --resume", "zoo bench --resume-cells")
        resume_cells = True
    spec = load_matrix(matrix)
    part = parse_shard(shard)
    run_time = options.runtime(device, workers, accum, tf32, compile, deterministic)
    runs_root = runs if runs is not None else default_runs(spec)
    if dry_run:
        planned = plan(spec, runs_root, store, part, on_note=_note)
        for cell, state in planned:
            console.print(f"{cell.index:4d}  {cell.name:<45} {state}", highlight=False)
        console.print(f"{len(planned)} cells ({'shard ' + shard if shard else 'whole matrix'}); runs in {runs_root}, store {store}")
        return
    with make_progress(progress, console) as bar:
        report = run_bench(
            spec, runs_root, store, part, resume=resume_cells, progress=bar,
            on_cell=lambda result: bar.console.print(cell_line(result), highlight=False), runtime=run_time, on_note=_note,
        )
    counts: dict[str, int] = {}
    for result in report.results:
        counts[result.status] = counts.get(result.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in counts.items()) or "no cells"
    console.print(f"bench {spec.name}{' shard ' + shard if shard else ''}: {summary}; rows in {store}")
    if report.failed:
        names = ", ".join(r.cell.name for r in report.failed)
        raise ZooError(f"{len(report.failed)} cell(s) failed: {names}; fix the cause and re-run with --resume-cells")


def _note(line: str) -> None:
    notes.print(f"note: {line}", style="yellow", highlight=False, markup=False)


def cell_line(result: Any) -> str:
    """One console line per finished bench cell (a `zoo.bench.CellResult`)."""
    from ..bench.runner import EVALUATED, FAILED, INGESTED, RESUMED, STORED, TRAINED

    name = result.cell.name
    head = f"[{result.position}/{result.total}] {name}:"
    if result.status == STORED:
        return f"{head} already in the store, skipped"
    if result.status == FAILED:
        return f"{head} [red]failed[/] after {result.seconds:.0f} s: {result.message}"
    what = {
        INGESTED: "finished run found, rows added",
        EVALUATED: "finished run evaluated",
        RESUMED: f"resumed to {result.cell.cfg.iters} it, evaluated",
        TRAINED: f"trained {result.cell.cfg.iters} it, evaluated",
    }[result.status]
    detail = f", {result.message}" if result.message else ""
    return f"{head} {what}: {result.rows} rows{detail}, {result.seconds:.0f} s"



def register(app: typer.Typer) -> None:
    app.command("bench")(bench)
