"""`zoo bench`: train and evaluate the cells of a matrix into the results store, resumably.

Each cell runs in `RUNS/<backbone>-<config>-<data>-<method>-s<seed>` (the `zoo train` default name;
RUNS defaults to `runs/<matrix name>`), is evaluated on every test set of its data, and its rows go
to the results store as one part file.

Restarting is cheap and safe: a cell whose rows are already in the store is skipped; a cell whose
run finished (and was evaluated) but whose rows never reached the store has its rows ingested from
`metrics.json`; a run killed mid-training continues from its last checkpoint with `--resume-cells`. Rows
are appended once per cell, after its evaluation, so a killed bench never leaves half a cell in the
store (with its per-image scores, `images-*.csv`, and learning curve, `curve-*.csv`). Merging shards is taking the union of their store
folders: point every shard at one shared `--store`, or copy the `part-*.csv`, `images-*.csv` and `curve-*.csv` files
of each shard's store into one folder.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._progress import NullProgress, ProgressLike
from ..errors import ZooError
from ..evaluation.records import curve_rows, image_rows
from ..models.checkpoint import read_config, read_metrics
from ..models.files import CONFIG_FILE, STATE_FILE
from ..results.store import DEFAULT_STORE, ResultsStore
from ..training.evaluate_run import evaluate_run
from ..training.runs import run_config
from ..training.runtime import Runtime
from ..training.trainer import Trainer
from .matrix import Cell, Matrix, shard_cells

DEFAULT_RUNS = Path("runs")

# What happened to a cell: nothing to do (rows already stored), or how its rows were obtained.
STORED, INGESTED, EVALUATED, RESUMED, TRAINED, FAILED = "stored", "ingested", "evaluated", "resumed", "trained", "failed"


def _stored_iterations(store: ResultsStore) -> dict[str, set[int]]:
    """Run name -> iteration counts of its measured rows in the store."""
    table = store.load()
    if table.empty:
        return {}
    table = table[table["source"] == "measured"]
    runs: dict[str, set[int]] = {}
    for run, iterations in zip(table["run"], table["iterations"]):
        runs.setdefault(str(run), set())
        if pd.notna(iterations):
            runs[str(run)].add(int(iterations))
    return runs


def _run_info(run_dir: Path) -> dict[str, Any]:
    """The `run` block (step, complete, wall time) of a run's config; empty when unreadable."""
    try:
        return dict(read_config(run_dir).get("run", {}))
    except ZooError:
        return {}


def cell_state(cell: Cell, run_dir: Path) -> str:
    """'empty' | 'partial' (resumable) | 'trained' (not evaluated) | 'evaluated'.

    A run folder holding a run with other settings than the cell's is an error, not something to
    overwrite or to count as this cell.
    """
    if not (run_dir / CONFIG_FILE).is_file():
        # Nothing, or a state killed before its first config was written: it cannot be checked
        # against the cell, and holds at most `ckpt_every` steps, so the cell starts over.
        return "empty"
    found = run_config(run_dir)
    expected, stored = cell.cfg.as_dict(), found.as_dict()  # values as config.json writes them
    diffs = [f"{k} {stored[k]!r} (matrix: {expected[k]!r})" for k in cell.cfg.differences(found)]
    if diffs:
        raise ZooError(
            f"{run_dir} holds a run with other settings than the matrix cell ({'; '.join(diffs[:4])}); "
            "move it away or pass another --runs folder"
        )
    info = _run_info(run_dir)
    if not info.get("complete"):
        return "partial" if (run_dir / STATE_FILE).is_file() else "empty"
    metrics = read_metrics(run_dir)
    rows = (metrics or {}).get("rows") or []
    if rows and all(row.get("iterations") == cell.cfg.iters for row in rows):
        return "evaluated"
    return "trained"


@dataclass
class CellResult:
    """What happened to one cell (`status`: one of STORED ... FAILED), the rows it gave, how long it took."""

    cell: Cell
    status: str
    rows: int = 0
    seconds: float = 0.0
    message: str = ""
    position: int = 0
    total: int = 0


@dataclass
class BenchReport:
    matrix: Matrix
    cells: list[Cell]
    results: list[CellResult] = field(default_factory=list)

    @property
    def failed(self) -> list[CellResult]:
        return [r for r in self.results if r.status == FAILED]


def default_runs(matrix: Matrix) -> Path:
    """`runs/<matrix name>`: matrices with other budgets never share run folders."""
    return DEFAULT_RUNS / matrix.name


def plan(
    matrix: Matrix, runs_root: Path, store_root: Path, shard: tuple[int, int] | None = None,
    on_note: Callable[[str], None] | None = None,
) -> list[tuple[Cell, str]]:
    """(cell, state) for the shard's cells; state is 'stored' or a `cell_state` value.

    A damaged file in the store does not stop the bench: it is left out (`on_note` hears one line
    naming it), so the cells whose rows it held count as not stored and are ingested or run again;
    the store's own appends are atomic, so the damage came from elsewhere and stays for the user to remove.
    """
    store = ResultsStore(store_root, skip_damaged=True)
    stored = _stored_iterations(store)
    for line in store.skipped:
        if on_note is not None:
            on_note(f"{line}; its cells count as not stored and are ingested or trained again")
    out = []
    for cell in shard_cells(matrix.cells(), shard):
        if cell.cfg.iters in stored.get(cell.name, set()):
            out.append((cell, STORED))
        else:
            out.append((cell, cell_state(cell, cell.run_dir(runs_root))))
    return out


def run_bench(
    matrix: Matrix,
    runs_root: Path | None = None,
    store_root: Path = DEFAULT_STORE,
    shard: tuple[int, int] | None = None,
    resume: bool = False,
    progress: ProgressLike | None = None,
    on_cell: Callable[[CellResult], None] | None = None,
    runtime: Runtime | None = None,
    on_note: Callable[[str], None] | None = None,
) -> BenchReport:
    """Run the shard's cells that are not done yet; returns what happened to each.

    Without `resume`, a cell interrupted mid-training is an error (listed before anything runs);
    with it, such cells continue from their last checkpoint. A cell that fails with a `ZooError`
    (e.g. a diverged loss) is reported and the others still run. `on_cell` hears of each cell as it
    ends; `progress` (owned by the caller) shows the matrix and each cell's training. `runtime`
    (device, workers, accumulation, ...) is how every cell is trained and evaluated. `on_note` hears
    of each damaged store file left out (see `plan`) before any cell runs.
    """
    bar = progress if progress is not None else NullProgress()
    runs_root, store_root = default_runs(matrix) if runs_root is None else Path(runs_root), Path(store_root)
    store = ResultsStore(store_root)
    planned = plan(matrix, runs_root, store_root, shard, on_note)
    partial = [cell.run_dir(runs_root) for cell, state in planned if state == "partial"]
    if partial and not resume:
        shown = ", ".join(str(p) for p in partial[:4]) + (f" and {len(partial) - 4} more" if len(partial) > 4 else "")
        raise ZooError(f"{len(partial)} cell(s) were interrupted mid-training ({shown}); continue them with --resume-cells")
    report = BenchReport(matrix, [cell for cell, _ in planned])
    total = len(planned)
    task = bar.add_task(f"bench {matrix.name}", total=total)
    for position, (cell, state) in enumerate(planned, start=1):
        start = time.perf_counter()
        try:
            status, rows = _run_cell(cell, state, runs_root, store, bar, runtime or Runtime())
            result = CellResult(cell, status, len(rows), time.perf_counter() - start, _summary(rows), position, total)
        except ZooError as err:
            result = CellResult(cell, FAILED, 0, time.perf_counter() - start, str(err), position, total)
        report.results.append(result)
        bar.update(task, advance=1)
        if on_cell is not None:
            on_cell(result)
    bar.remove_task(task)
    return report


def _run_cell(
    cell: Cell, state: str, runs_root: Path, store: ResultsStore, progress: ProgressLike, runtime: Runtime
) -> tuple[str, list[dict[str, Any]]]:
    run_dir = cell.run_dir(runs_root)
    if state == STORED:
        return STORED, []
    if state == "evaluated":
        metrics = read_metrics(run_dir) or {}
        rows = metrics["rows"]
        store.append(rows, image_rows(rows, metrics.get("per_image") or {}), curve_rows(rows, metrics.get("curve") or []))
        return INGESTED, rows
    status = EVALUATED
    if state in ("empty", "partial"):
        status = _train(cell, run_dir, resume=state == "partial", progress=progress, runtime=runtime)
    metrics = evaluate_run(run_dir, device=runtime.device)
    store.append(metrics["rows"], image_rows(metrics["rows"], metrics["per_image"]), curve_rows(metrics["rows"], metrics["curve"]))
    return status, metrics["rows"]


def _train(cell: Cell, run_dir: Path, resume: bool, progress: ProgressLike, runtime: Runtime) -> str:
    # A fresh start may replace a state file that `cell_state` found unusable (see there).
    trainer = Trainer.resume(run_dir, runtime=runtime) if resume else Trainer(cell.cfg, run_dir, overwrite=True, runtime=runtime)
    try:
        trainer.fit(progress=progress)
        if not _run_info(run_dir).get("complete"):
            # Killed between the last state and its model files: the loop had nothing left to do,
            # so write the final checkpoint (model, config marked complete) now.
            trainer.checkpoint()
    finally:
        trainer.close()
    return RESUMED if resume else TRAINED


def _summary(rows: list[dict[str, Any]]) -> str:
    psnr = [float(r["value"]) for r in rows if r.get("metric") == "psnr"]
    if not psnr:
        return ""
    return f"mean PSNR {sum(psnr) / len(psnr):.2f} dB over {len(psnr)} sets"
