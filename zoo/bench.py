"""`zoo bench`: train and evaluate a matrix of runs (backbone x method x data x seed) into the results store.

A matrix is a small YAML file::

    name: synthmix-cpu            # optional; default: the file's stem
    backbones: "*"                # every registered backbone, or a list such as [brn, idt]
    methods: [baseline, coic]
    data: [synthmix]
    seeds: [0, 1, 2]
    config: tiny
    settings:                     # any TrainConfig field (or model.KEY), the same for every cell
      iters: 200
      stage1_iters: 60

Cells are expanded in a fixed order (backbone, then method, data, seed; backbones in the order
listed, or sorted for "*"), so `--shard i/n` (the cells whose 0-based index % n == i - 1) gives every
machine a disjoint part and all n shards together cover the matrix. Each cell runs in
`RUNS/<backbone>-<config>-<data>-<method>-s<seed>` (the `zoo train` default name; RUNS defaults to
`runs/<matrix name>`), is evaluated on every test set of its data, and its rows go to the results
store as one part file.

Restarting is cheap and safe: a cell whose rows are already in the store is skipped; a cell whose
run finished (and was evaluated) but whose rows never reached the store has its rows ingested from
`metrics.json`; a run killed mid-training continues from its last checkpoint with `--resume`. Rows
are appended once per cell, after its evaluation, so a killed bench never leaves half a cell in the
store. Merging shards is taking the union of their store folders: point every shard at one shared
`--store`, or copy the `part-*.csv` files of each shard's store into one folder.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from rich.console import Console

from .errors import ZooError
from .results import DEFAULT_STORE, ResultsStore
from .runs import STATE_FILE, default_run_dir, read_metrics, run_config
from .train_config import TrainConfig

METHODS = ("baseline", "coic")
MATRIX_KEYS = ("name", "description", "backbones", "methods", "data", "seeds", "config", "settings")
AXIS_SETTINGS = ("backbone", "coic", "config", "data", "seed")  # set by the matrix axes, not by `settings`
DEFAULT_RUNS = Path("runs")

# What happened to a cell: nothing to do (rows already stored), or how its rows were obtained.
STORED, INGESTED, EVALUATED, RESUMED, TRAINED, FAILED = "stored", "ingested", "evaluated", "resumed", "trained", "failed"


@dataclass(frozen=True)
class Cell:
    """One run of the matrix; `cfg` is its fully resolved training config."""

    index: int
    backbone: str
    method: str
    data: str
    seed: int
    cfg: TrainConfig

    @property
    def name(self) -> str:
        return default_run_dir(self.cfg, Path()).name

    def run_dir(self, runs_root: Path) -> Path:
        return Path(runs_root) / self.name


@dataclass(frozen=True)
class Matrix:
    name: str
    backbones: tuple[str, ...]
    methods: tuple[str, ...]
    data: tuple[str, ...]
    seeds: tuple[int, ...]
    config: str = "tiny"
    settings: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def cell_config(self, backbone: str, method: str, data: str, seed: int) -> TrainConfig:
        base = TrainConfig(backbone=backbone, coic=method == "coic", config=self.config, data=data, seed=seed)
        merged = base.as_dict()
        model = dict(merged.get("model") or {})
        for key, value in self.settings.items():
            if key.startswith("model."):
                model[key[len("model."):]] = value
            elif key == "model":
                model.update(value)
            else:
                merged[key] = value
        merged["model"] = model
        try:
            return TrainConfig.from_dict(merged).resolved()
        except TypeError as err:  # e.g. iters: "many"
            raise ZooError(f"matrix '{self.name}': a setting has the wrong type ({err}); settings: {self.settings}") from None

    def cells(self) -> list[Cell]:
        """Every cell, in the fixed order backbone, method, data, seed."""
        return [
            Cell(index, backbone, method, data, seed, self.cell_config(backbone, method, data, seed))
            for index, (backbone, method, data, seed) in enumerate(product(self.backbones, self.methods, self.data, self.seeds))
        ]


def load_matrix(path: str | Path) -> Matrix:
    """Read and check a matrix YAML; every problem is a `ZooError` naming the file and the key."""
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"{path}: no such matrix file (see benchmarks/matrices/ for examples)")
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ZooError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(spec, dict):
        raise ZooError(f"{path}: a matrix is a mapping with keys {', '.join(MATRIX_KEYS)}")
    return matrix_from_dict(spec, name=path.stem, where=str(path))


def matrix_from_dict(spec: dict[str, Any], name: str = "matrix", where: str = "matrix") -> Matrix:
    from .registry import list_models, model_info

    unknown = sorted(set(spec) - set(MATRIX_KEYS))
    if unknown:
        raise ZooError(f"{where}: unknown keys {unknown}; a matrix has {', '.join(MATRIX_KEYS)}")
    for key in ("backbones", "methods", "data", "seeds"):
        if key not in spec or spec[key] in (None, [], ""):
            raise ZooError(f"{where}: '{key}' is missing or empty")
    backbones: list[str] = []
    for item in _as_list(spec["backbones"]):
        item = str(item)
        if any(ch in item for ch in "*?["):
            matched = list_models(item)
            if not matched:
                raise ZooError(f"{where}: backbones pattern '{item}' matches no registered backbone; known: {', '.join(list_models())}")
            backbones += matched
        else:
            backbones.append(model_info(item).name)  # an unknown name raises with the closest known ones
    methods = [str(m) for m in _as_list(spec["methods"])]
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise ZooError(f"{where}: unknown methods {bad}; use {' and/or '.join(METHODS)}")
    try:
        seeds = [int(s) for s in _as_list(spec["seeds"])]
    except (TypeError, ValueError):
        raise ZooError(f"{where}: seeds must be integers, got {spec['seeds']!r}") from None
    settings = spec.get("settings") or {}
    if isinstance(settings, list):  # ["iters=200", ...], as `zoo train --set`
        settings = _parse_assignments(settings, where)
    if not isinstance(settings, dict):
        raise ZooError(f"{where}: settings must map TrainConfig fields to values (e.g. iters: 200)")
    clash = sorted(set(settings) & set(AXIS_SETTINGS))
    if clash:
        raise ZooError(f"{where}: settings {clash} are set by the matrix axes (backbones, methods, config, data, seeds)")
    matrix = Matrix(
        name=str(spec.get("name") or name),
        backbones=tuple(_unique(backbones)),
        methods=tuple(_unique(methods)),
        data=tuple(_unique(str(d) for d in _as_list(spec["data"]))),
        seeds=tuple(_unique(seeds)),
        config=str(spec.get("config") or "tiny"),
        settings=dict(settings),
        description=str(spec.get("description") or ""),
    )
    matrix.cells()  # resolve every cell now: a bad setting fails before any training starts
    return matrix


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _unique(items: Iterable[Any]) -> list[Any]:
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _parse_assignments(items: list[Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = str(item).partition("=")
        if not sep or not key:
            raise ZooError(f"{where}: setting '{item}' is not key=value")
        out[key.strip()] = yaml.safe_load(raw)
    return out


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """'i/n' (1-based i) -> (i, n); None -> None."""
    if text is None:
        return None
    left, sep, right = text.partition("/")
    try:
        index, count = int(left), int(right)
    except ValueError:
        index, count = 0, 0
    if not sep or count < 1 or not 1 <= index <= count:
        raise ZooError(f"--shard '{text}' is not i/n with 1 <= i <= n (e.g. --shard 1/4 ... --shard 4/4)")
    return index, count


def shard_cells(cells: list[Cell], shard: tuple[int, int] | None) -> list[Cell]:
    """The cells of shard i of n: those whose matrix index % n == i - 1."""
    if shard is None:
        return list(cells)
    index, count = shard
    return [cell for cell in cells if cell.index % count == index - 1]


# ---------------------------------------------------------------------------------------------
# The state of a cell on disk


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


def _config_differences(expected: TrainConfig, found: TrainConfig) -> list[str]:
    a, b = expected.as_dict(), found.as_dict()
    return [f"{k} {b.get(k)!r} (matrix: {a[k]!r})" for k in a if a[k] != b.get(k)]


def _run_info(run_dir: Path) -> dict[str, Any]:
    import json

    try:
        return json.loads((run_dir / "config.json").read_text(encoding="utf-8")).get("run", {})
    except (OSError, ValueError):
        return {}


def cell_state(cell: Cell, run_dir: Path) -> str:
    """'empty' | 'partial' (resumable) | 'trained' (not evaluated) | 'evaluated'.

    A run folder holding a run with other settings than the cell's is an error, not something to
    overwrite or to count as this cell.
    """
    if not (run_dir / "config.json").is_file():
        # Nothing, or a state killed before its first config was written: it cannot be checked
        # against the cell, and holds at most `ckpt_every` steps, so the cell starts over.
        return "empty"
    found = run_config(run_dir)
    diffs = _config_differences(cell.cfg, found)
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


# ---------------------------------------------------------------------------------------------
# Running


@dataclass
class CellResult:
    cell: Cell
    status: str
    rows: int = 0
    seconds: float = 0.0
    message: str = ""


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


def plan(matrix: Matrix, runs_root: Path, store_root: Path, shard: tuple[int, int] | None = None) -> list[tuple[Cell, str]]:
    """(cell, state) for the shard's cells; state is 'stored' or a `cell_state` value."""
    store = ResultsStore(store_root)
    stored = _stored_iterations(store)
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
    progress: bool = True,
    console: Console | None = None,
    on_cell: Callable[[CellResult], None] | None = None,
) -> BenchReport:
    """Run the shard's cells that are not done yet; returns what happened to each.

    Without `resume`, a cell interrupted mid-training is an error (listed before anything runs);
    with it, such cells continue from their last checkpoint. A cell that fails with a `ZooError`
    (e.g. a diverged loss) is reported and the others still run.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    console = console or Console()
    runs_root, store_root = default_runs(matrix) if runs_root is None else Path(runs_root), Path(store_root)
    store = ResultsStore(store_root)
    planned = plan(matrix, runs_root, store_root, shard)
    partial = [cell.run_dir(runs_root) for cell, state in planned if state == "partial"]
    if partial and not resume:
        shown = ", ".join(str(p) for p in partial[:4]) + (f" and {len(partial) - 4} more" if len(partial) > 4 else "")
        raise ZooError(f"{len(partial)} cell(s) were interrupted mid-training ({shown}); continue them with --resume")
    report = BenchReport(matrix, [cell for cell, _ in planned])
    total = len(planned)
    bar = Progress(
        TextColumn("[bold]bench {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, disable=not progress,
    )
    with bar:
        task = bar.add_task(matrix.name, total=total)
        for position, (cell, state) in enumerate(planned, start=1):
            start = time.perf_counter()
            try:
                status, rows = _run_cell(cell, state, runs_root, store, progress)
                result = CellResult(cell, status, len(rows), time.perf_counter() - start, _summary(rows))
            except ZooError as err:
                result = CellResult(cell, FAILED, 0, time.perf_counter() - start, str(err))
            report.results.append(result)
            bar.console.print(_line(position, total, result), highlight=False)
            bar.update(task, advance=1)
            if on_cell is not None:
                on_cell(result)
    return report


def _run_cell(cell: Cell, state: str, runs_root: Path, store: ResultsStore, progress: bool) -> tuple[str, list[dict[str, Any]]]:
    from .report import evaluate_run

    run_dir = cell.run_dir(runs_root)
    if state == STORED:
        return STORED, []
    if state == "evaluated":
        rows = (read_metrics(run_dir) or {})["rows"]
        store.append(rows)
        return INGESTED, rows
    status = EVALUATED
    if state in ("empty", "partial"):
        status = _train(cell, run_dir, resume=state == "partial", progress=progress)
    metrics = evaluate_run(run_dir)
    store.append(metrics["rows"])
    return status, metrics["rows"]


def _train(cell: Cell, run_dir: Path, resume: bool, progress: bool) -> str:
    from .train import Trainer

    # A fresh start may replace a state file that `cell_state` found unusable (see there).
    trainer = Trainer.resume(run_dir) if resume else Trainer(cell.cfg, run_dir, overwrite=True)
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


def _line(position: int, total: int, result: CellResult) -> str:
    name = result.cell.name
    head = f"[{position}/{total}] {name}:"
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


__all__ = [
    "BenchReport", "Cell", "CellResult", "Matrix", "cell_state", "default_runs", "load_matrix", "matrix_from_dict", "parse_shard",
    "plan", "run_bench", "shard_cells",
]
