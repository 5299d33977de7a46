"""CLI commands about the results store: `zoo bench` (fill it) and `zoo leaderboard` (read it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from ..errors import ZooError
from ..results.store import DEFAULT_STORE
from . import options
from .progress import make_progress

console = Console()
notes = Console(stderr=True)  # status lines, kept out of a leaderboard printed to stdout


def bench(
    matrix: Path = typer.Argument(..., help="Matrix YAML: backbones, methods, data, seeds, config, settings."),
    shard: str | None = typer.Option(None, "--shard", help="i/n: run only the cells whose index % n == i-1 (1 <= i <= n)."),
    resume: bool = typer.Option(False, "--resume", help="Continue cells interrupted mid-training from their last checkpoint."),
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

    Finished cells are skipped: a killed bench re-run with --resume neither redoes nor duplicates them.

    Shards (--shard 1/n ... n/n) share one --store, or their store folders are copied together.
    """
    import os

    from ..bench import default_runs, load_matrix, parse_shard, plan, run_bench

    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise ZooError(
            "zoo bench runs its cells one process at a time; do not start it under torchrun: give each GPU "
            "its own shard (--shard i/n), or train one cell on several GPUs with `torchrun ... -m zoo train`"
        )
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
            spec, runs_root, store, part, resume=resume, progress=bar,
            on_cell=lambda result: bar.console.print(cell_line(result), highlight=False), runtime=run_time, on_note=_note,
        )
    counts: dict[str, int] = {}
    for result in report.results:
        counts[result.status] = counts.get(result.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in counts.items()) or "no cells"
    console.print(f"bench {spec.name}{' shard ' + shard if shard else ''}: {summary}; rows in {store}")
    if report.failed:
        names = ", ".join(r.cell.name for r in report.failed)
        raise ZooError(f"{len(report.failed)} cell(s) failed: {names}; fix the cause and re-run with --resume")


def _note(line: str) -> None:
    notes.print(f"note: {line}", style="yellow", highlight=False, markup=False)


def leaderboard(
    store: Path | None = typer.Option(
        None, "--store", help="Results store folder (default: the published leaderboard, plus your own rows from ./results if any).",
    ),
    dataset: list[str] = typer.Option([], "--dataset", help="Only these test sets (repeatable)."),
    metric: str = typer.Option(
        "psnr", "--metric", help="psnr, ssim, input_psnr, input_ssim, niqe, or cost (parameters, MACs, CPU ms, memory per model).",
    ),
    source: str = typer.Option("measured", "--source", help="measured, reported or all."),
    protocol: str | None = typer.Option(None, "--protocol", help="Only numbers computed under this protocol."),
    backbone: list[str] = typer.Option([], "--backbone", help="Only these backbones (repeatable)."),
    reported: Path = typer.Option(Path("leaderboards/reported"), "--reported", help="Folder of reported-number CSVs."),
    fmt: str | None = typer.Option(None, "--format", help="table, md, csv or html (default: from --out's suffix, else table)."),
    out: Path | None = typer.Option(None, "--out", help="Write to this file instead of the terminal."),
    plot_path: Path | None = typer.Option(
        None, "--plot", help="Also draw a PNG: CoIC − baseline PSNR against iterations (95%% band over paired seeds) when the store has paired learning curves, else the learning curves, else the CoIC gain per test set.",
    ),
    at_iteration: int | None = typer.Option(
        None, "--at-iteration", min=1, help="The table at this training budget, from the runs' learning curves (runs trained with --eval-every).",
    ),
    cost: bool = typer.Option(False, "--cost", help="One line per run instead: device, precision, batch, images/s, peak GPU memory, time."),
    costs: bool = typer.Option(False, "--costs", help="Add the cost columns (as --metric cost) below the leaderboard; measured now, takes a while."),
    skip_damaged: bool = typer.Option(
        False, "--skip-damaged", help="Leave out damaged store files (truncated, empty, binary, wrong columns) instead of refusing; each is named in the output.",
    ),
) -> None:
    """Leaderboard of the results store: mean ± std over seeds, CoIC − baseline per backbone, best marked."""
    from contextlib import nullcontext

    from ..results.render import infer_format
    from ..results.store import skipping_damaged

    fmt = infer_format(fmt, out)
    with skipping_damaged() if skip_damaged else nullcontext([]) as skipped:
        if cost:
            _cost_view(store if store is not None else DEFAULT_STORE, backbone, fmt, out, skipped)
        elif metric == "cost":
            _model_cost_view(store, backbone, fmt, out)
        else:
            _board(store, dataset, metric, source, protocol, backbone, reported, fmt, out, plot_path, at_iteration, costs, skipped)
    for line in skipped:  # after the output: what --skip-damaged left out
        notes.print(f"note: {line}; its rows are not in this output", style="yellow", highlight=False, markup=False)


def _board(
    store: Path | None, dataset: list[str], metric: str, source: str, protocol: str | None, backbone: list[str],
    reported: Path, fmt: str, out: Path | None, plot_path: Path | None, at_iteration: int | None, costs: bool,
    skipped: list[str],
) -> None:
    """The leaderboard proper (not the cost views), rendered as `fmt`; `skipped` names damaged files left out."""
    from ..results.boards import build
    from ..results.plot import plot, plot_curves, plot_gain_curves
    from ..results.publish import command_line, page, write
    from ..results.render import rich_tables

    if costs and out is not None and fmt != "md":
        raise ZooError("--costs adds the cost columns to markdown or terminal output; for other formats use --metric cost")
    if at_iteration is not None:
        from ..results.budget import rows_at
        from ..results.store import ResultsStore

        store = store if store is not None else DEFAULT_STORE
        lb = build(store, metric=metric, datasets=dataset, protocol=protocol, backbones=backbone,
                   table=rows_at(ResultsStore(store).load_curves(), at_iteration), images=None)
    elif store is None and source == "measured":
        from ..results.published import default_tables

        table, images, where = default_tables(DEFAULT_STORE)
        lb = build(DEFAULT_STORE, metric=metric, datasets=dataset, protocol=protocol, backbones=backbone, table=table, images=images)
        lb.origin = where
    else:
        store = store if store is not None else DEFAULT_STORE
        lb = build(store, metric=metric, datasets=dataset, source=source, protocol=protocol, backbones=backbone, reported=reported)
    lb.skipped = list(skipped)
    command = command_line(store, fmt, out, metric, dataset, source, protocol, backbone, reported, plot_path) + (" --costs" if costs else "") + (
        f" --at-iteration {at_iteration}" if at_iteration is not None else ""
    ) + (" --skip-damaged" if skipped else "")
    if out is not None:
        write(lb, fmt, out, command)
        notes.print(f"wrote {out}")
    elif fmt == "table":
        from rich.measure import Measurement

        shown = _wide_console()
        for table in rich_tables(lb):
            shown.print(table)
            need = Measurement.get(shown, shown.options.update_width(10_000), table).maximum
            if need > shown.width:
                notes.print(
                    f"note: the table needs {need} columns and was cut to {shown.width}; widen the terminal, "
                    "pick test sets with --dataset, or use --format md", style="yellow",
                )
    else:
        typer.echo(page(lb, fmt, command), nl=False)
    if costs:
        _model_cost_view(store, backbone, "md" if out is not None and fmt == "md" else fmt, out, append=out is not None)
    if plot_path is not None:
        from ..results.budget import gain_curves
        from ..results.store import ResultsStore

        curves = ResultsStore(store if store is not None else DEFAULT_STORE).load_curves()
        if backbone:
            curves = curves[curves["backbone"].astype(str).isin(backbone)]
        gains = gain_curves(curves) if not curves.empty else None
        if gains is not None and not gains.empty:
            plot_gain_curves(gains, plot_path)
        else:
            plot_curves(curves, plot_path) if not curves.empty else plot(lb, plot_path)
        notes.print(f"wrote {plot_path}")


def _wide_console() -> Console:
    """The terminal's console, or for a pipe or file one at least 240 wide: tables are not squeezed into 80 columns."""
    return console if console.is_terminal else Console(width=max(console.width, 240))


def _cost_view(store: Path, backbones: list[str], fmt: str, out: Path | None, skipped: list[str] | None = None) -> None:
    import shlex

    from .._atomic import atomic_write_text
    from ..results.costs import cost_table, render_costs, rich_table

    runs = cost_table(store, backbones)
    if out is None and fmt == "table":
        _wide_console().print(rich_table(runs))
        return
    parts = ["zoo", "leaderboard", "--cost", "--store", str(store)]
    for name in backbones:
        parts += ["--backbone", name]
    parts += ["--format", fmt] + (["--out", str(out)] if out is not None else [])
    generated = f"Generated by `{shlex.join(parts)}` from the results store `{store}` ({len(runs)} runs). Do not edit by hand."
    if skipped:
        generated += f" Left out {len(skipped)} damaged store file(s): {'; '.join(s.removeprefix('skipped ') for s in skipped)}."
    text = render_costs(runs, fmt, generated if fmt in ("md", "html") else None)
    if out is None:
        typer.echo(text, nl=False)
    else:
        atomic_write_text(out, text)
        notes.print(f"wrote {out}")


def _model_cost_view(store: Path | None, backbones: list[str], fmt: str, out: Path | None, append: bool = False) -> None:
    """Parameters, MACs, CPU time and memory per model, baseline | CoIC; `append` adds them to `out`."""
    from .._atomic import atomic_write_text
    from ..results.costs import model_costs, render_model_costs

    if store is None:
        from ..results.published import default_tables

        table = default_tables(DEFAULT_STORE)[0]
        found = model_costs(table=table, backbones=backbones)
    else:
        found = model_costs(store, backbones=backbones)
    text = render_model_costs(found, fmt)
    if out is None:
        typer.echo(text, nl=False)
        return
    if append:
        text = out.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + text
    atomic_write_text(out, text)
    notes.print(f"wrote {out}")


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
    app.command("leaderboard")(leaderboard)
