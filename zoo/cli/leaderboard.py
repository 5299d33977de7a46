"""`zoo leaderboard`: read a results store (and the field's reported numbers) as tables, pages, figures
or model-index YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from ..errors import ZooError
from ..results.store import DEFAULT_METRIC, DEFAULT_REPORTED, DEFAULT_SOURCE, DEFAULT_STORE
from .deprecations import deprecated

console = Console()
notes = Console(stderr=True)  # status lines, kept out of a leaderboard printed to stdout
SCORES, MODEL_COST, RUN_COST, POWER = "scores", "model-cost", "run-cost", "power"
VIEWS = (SCORES, MODEL_COST, RUN_COST, POWER)
FIELD_FORMATS = ("html", "md", "table")  # formats that show reported numbers as field tables beside the boards
# the board options each other view reads (besides --store, --backbone, --format, --out, --skip-damaged);
# any other one given would be ignored, so it is refused
VIEW_OPTIONS = {
    RUN_COST: (),
    MODEL_COST: ("--measure-costs",),
    POWER: ("--at-iteration", "--protocol", "--seed"),
}


def leaderboard(
    store: Path | None = typer.Option(
        None, "--store", help="Results store folder (default: the published leaderboard, plus your own rows from ./results if any).",
    ),
    dataset: list[str] = typer.Option([], "--dataset", help="Only these test sets (repeatable)."),
    metric: str = typer.Option(DEFAULT_METRIC, "--metric", help="psnr, ssim, input_psnr, input_ssim or niqe."),
    view: str = typer.Option(
        SCORES, "--view", help="scores (the leaderboard), model-cost (parameters, MACs, CPU ms, memory per model, as stored) "
        "run-cost (one line per run: device, precision, batch, images/s, peak GPU memory, time) or power (per backbone: "
        "CoIC − baseline, its per-seed std, the half-width reached and the seeds a 0.15 dB half-width needs; with --at-iteration at that budget).",
    ),
    source: str = typer.Option(DEFAULT_SOURCE, "--source", help="measured, reported or all."),
    protocol: str | None = typer.Option(None, "--protocol", help="Only numbers computed under this protocol."),
    backbone: list[str] = typer.Option([], "--backbone", help="Only these backbones (repeatable)."),
    seed: list[int] = typer.Option(
        [], "--seed", help="Only runs trained with these seeds (repeatable), e.g. the first seeds a power budget was planned from.",
    ),
    reported: Path = typer.Option(DEFAULT_REPORTED, "--reported", help="Folder of reported-number CSVs."),
    fmt: str | None = typer.Option(
        None, "--format", help="table, md, csv, html or model-index (Hugging Face YAML) (default: from --out's suffix, else table).",
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file instead of the terminal."),
    plot_path: Path | None = typer.Option(
        None, "--plot", help="Also draw a PNG: CoIC − baseline PSNR against iterations (95%% band over paired seeds) when the store has paired learning curves, else the learning curves, else the CoIC gain per test set.",
    ),
    at_iteration: int | None = typer.Option(
        None, "--at-iteration", min=1, help="The table at this training budget, from the runs' learning curves (runs trained with --eval-every).",
    ),
    budget_store: Path | None = typer.Option(
        None, "--budget-store", help="HTML only: add this store's CoIC − baseline against iterations (the --plot figure of its "
        "learning curves) and its boards at each --budget-at, as a section of the page. The section shows that store whole: "
        "--backbone and --seed narrow the page's own boards only.",
    ),
    budget_at: list[int] = typer.Option(
        [], "--budget-at", min=1, help="A training budget for --budget-store's boards (repeatable; default: its last recorded iteration).",
    ),
    with_costs: bool = typer.Option(False, "--with-costs", help="Add the model-cost table (--view model-cost) below the scores (terminal or markdown)."),
    measure_costs: bool = typer.Option(
        False, "--measure-costs", help="Measure the model costs now (minutes: every model runs on this CPU) and store them in the "
        "store's model-costs.csv, instead of reading the stored ones.",
    ),
    cost: bool = typer.Option(False, "--cost", hidden=True, help="Deprecated: --view run-cost."),
    costs: bool = typer.Option(False, "--costs", hidden=True, help="Deprecated: --with-costs."),
    skip_damaged: bool = typer.Option(
        False, "--skip-damaged", help="Leave out damaged store files (truncated, empty, binary, wrong columns) instead of refusing; each is named in the output.",
    ),
) -> None:
    """Leaderboard of the results store: mean ± std over seeds, CoIC − baseline per backbone, best marked.

    `--source reported` lists the field's published numbers instead, one table per test set, ranked within protocol."""
    from contextlib import nullcontext

    from ..results.render import infer_format
    from ..results.store import skipping_damaged

    if cost:
        deprecated("--cost", f"--view {RUN_COST}")
        view = RUN_COST
    if metric == "cost":
        deprecated("--metric cost", f"--view {MODEL_COST}")
        view, metric = MODEL_COST, DEFAULT_METRIC
    if costs:
        deprecated("--costs", "--with-costs")
        with_costs = True
    if view not in VIEWS:
        raise ZooError(f"--view '{view}' is unknown; use {', '.join(VIEWS)}")
    fmt = infer_format(fmt, out)
    given = {
        "--dataset": bool(dataset), "--metric": metric != DEFAULT_METRIC, "--source": source != DEFAULT_SOURCE, "--protocol": protocol is not None,
        "--reported": reported != DEFAULT_REPORTED, "--plot": plot_path is not None,
        "--at-iteration": at_iteration is not None, "--with-costs": with_costs, "--measure-costs": measure_costs, "--seed": bool(seed),
    }
    _refuse_unread_options(view, [option for option, set_ in given.items() if set_])
    if seed and source == "reported":
        raise ZooError("--seed picks measured runs; the reported numbers carry no training seed (drop --seed, or use --source all)")
    if budget_at and budget_store is None:
        raise ZooError("--budget-at picks the budgets of --budget-store's boards; add --budget-store STORE (for one store's table "
                       "at a budget, use --at-iteration N)")
    if budget_store is not None and (fmt != "html" or view != SCORES):
        raise ZooError("--budget-store adds a section to the HTML page (--format html, or --out PAGE.html); elsewhere use "
                       f"zoo leaderboard --store {budget_store} --at-iteration N, and --plot for its figure")
    with skipping_damaged() if skip_damaged else nullcontext([]) as skipped:
        if view == RUN_COST:
            _cost_view(store if store is not None else DEFAULT_STORE, backbone, fmt, out, skipped)
        elif view == MODEL_COST:
            _model_cost_view(store, backbone, fmt, out, measure=measure_costs)
        elif view == POWER:
            _power_view(store if store is not None else DEFAULT_STORE, backbone, seed, protocol, at_iteration, fmt, out, skipped)
        else:
            _board(store, dataset, metric, source, protocol, backbone, reported, fmt, out, plot_path, at_iteration,
                   with_costs, measure_costs, skipped, budget_store, budget_at, seed)
    for line in skipped:  # after the output: what --skip-damaged left out
        notes.print(f"note: {line}; its rows are not in this output", style="yellow", highlight=False, markup=False)


def _refuse_unread_options(view: str, given: list[str]) -> None:
    """A view other than the scores reads only some board options; one it would ignore is refused by name,
    so `--view power --metric ssim` does not print a PSNR budget as if it were SSIM's. The scores view reads
    them all, but measures costs only for the table --with-costs shows."""
    if view == SCORES:
        if "--measure-costs" in given and "--with-costs" not in given:
            raise ZooError("--measure-costs measures the model-cost table; add --with-costs (below the scores) or use --view model-cost")
        return
    unread = [option for option in given if option not in VIEW_OPTIONS[view]]
    if unread:
        reads = ", ".join(["--store", "--backbone", "--format", "--out", "--skip-damaged", *VIEW_OPTIONS[view]])
        raise ZooError(f"--view {view} does not use {', '.join(unread)}; it reads {reads} (drop the option, or use --view {SCORES})")


def _board(
    store: Path | None, dataset: list[str], metric: str, source: str, protocol: str | None, backbone: list[str],
    reported: Path, fmt: str, out: Path | None, plot_path: Path | None, at_iteration: int | None, costs: bool,
    measure_costs: bool, skipped: list[str], budget_store: Path | None = None, budget_at: list[int] | tuple[int, ...] = (),
    seeds: list[int] | tuple[int, ...] = (),
) -> None:
    """The leaderboard proper (not the cost views), rendered as `fmt`; `skipped` names damaged files left out;
    `budget_store` adds its CoIC − baseline against iterations at `budget_at` to a page; `seeds` keeps those runs."""
    from ..results.boards import build
    from ..results.generated import command_line, page, write
    from ..results.plot import plot, plot_curves, plot_gain_curves
    from ..results.render import rich_tables

    if costs and out is not None and fmt != "md":
        raise ZooError("--with-costs adds the cost columns to markdown or terminal output; for other formats use --view model-cost")
    if fmt == "model-index":
        _model_index(store, dataset, source, protocol, backbone, reported, out, seeds)
        return
    if source == "reported" and fmt != "html":
        _field(dataset, protocol, backbone, reported, fmt, out)
        return
    if at_iteration is not None:
        from ..results.budget import board_at

        store = store if store is not None else DEFAULT_STORE
        lb = board_at(store, at_iteration, metric=metric, datasets=dataset, protocol=protocol, backbones=backbone, seeds=seeds)
    elif store is None and source == "measured":
        from ..results.packaged_board import default_tables

        table, images, where = default_tables(DEFAULT_STORE)
        lb = build(DEFAULT_STORE, metric=metric, datasets=dataset, protocol=protocol, backbones=backbone, table=table, images=images,
                   seeds=seeds)
        lb.origin = where
    elif fmt == "html" and source == "reported":
        from ..results.boards import Leaderboard

        lb = Leaderboard([], metric, reported, source, 0, origin=f"the reported numbers in `{reported}`")
    else:
        store = store if store is not None else DEFAULT_STORE
        # a page, a markdown file or the terminal shows reported numbers as field tables (one per test set), not boards
        shown = "measured" if fmt in FIELD_FORMATS else source
        lb = build(store, metric=metric, datasets=dataset, source=shown, protocol=protocol, backbones=backbone, reported=reported,
                   seeds=seeds)
    lb.skipped = list(skipped)
    field = _field_tables_shown(source, dataset, protocol, backbone, reported, fmt)
    command = command_line(
        store, fmt, out, metric, dataset, source, protocol, backbone, reported, plot_path, with_costs=costs,
        at_iteration=at_iteration, skip_damaged=bool(skipped), budget_store=budget_store, budget_at=budget_at, seeds=seeds,
    )
    budget = None
    if budget_store is not None:
        from ..results.budget import budget_view

        budget = budget_view(budget_store, budget_at)
    if out is not None:
        write(lb, fmt, out, command, field, budget)
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
        if field:
            from ..results.field import rich_tables as field_tables

            for table in field_tables(field):
                shown.print(table)
    else:
        typer.echo(page(lb, fmt, command, field, budget), nl=False)
    if costs:
        _model_cost_view(store, backbone, "md" if out is not None and fmt == "md" else fmt, out, append=out is not None, measure=measure_costs)
    if plot_path is not None:
        from ..results.budget import gain_curves
        from ..results.store import ResultsStore, keep_seeds

        curves = ResultsStore(store if store is not None else DEFAULT_STORE).load_curves()
        if backbone:
            curves = curves[curves["backbone"].astype(str).isin(backbone)]
        curves = keep_seeds(curves, seeds) if not curves.empty else curves
        gains = gain_curves(curves) if not curves.empty else None
        if gains is not None and not gains.empty:
            plot_gain_curves(gains, plot_path)
        else:
            plot_curves(curves, plot_path) if not curves.empty else plot(lb, plot_path)
        notes.print(f"wrote {plot_path}")


def _reported_rows(protocol: str | None, backbone: list[str], reported: Path) -> Any:
    """The reported numbers (`leaderboards/reported/`), narrowed by the board's options (test sets: by the caller)."""
    from ..results.field import load_reported
    from ..results.store import require

    table = load_reported(reported)
    if protocol:
        table = require(table, "protocol", protocol)
    for name in backbone:
        require(table, "backbone", name)
    return table[table["backbone"].isin(backbone)] if backbone else table


def _field_tables_shown(source: str, dataset: list[str], protocol: str | None, backbone: list[str], reported: Path, fmt: str) -> list[Any]:
    """The field tables shown after the boards with `--source all` (HTML, markdown, terminal): none for measured ones."""
    from ..results.field import field_tables

    if fmt not in FIELD_FORMATS or source == "measured":
        return []
    table = _reported_rows(protocol, backbone, reported)
    if dataset:  # a page of some test sets shows the reported numbers of those it has, if any
        table = table[table["eval_dataset"].isin(dataset)]
    return field_tables(table) if not table.empty else []


def _field(dataset: list[str], protocol: str | None, backbone: list[str], reported: Path, fmt: str, out: Path | None) -> None:
    """`--source reported`: per test set, every published number, ranked within its protocol (`results.field`)."""
    from ..results import field
    from ..results.generated import command_line, stamp

    table = _reported_rows(protocol, backbone, reported)
    tables = field.field_tables(table, dataset)
    command = command_line(None, fmt, out, DEFAULT_METRIC, dataset, "reported", protocol, backbone, reported)
    generated = stamp(command, f"the reported numbers in `{reported}` ({len(table)} rows, {table['run'].nunique()} method entries)")
    if fmt == "table" and out is None:
        shown = _wide_console()
        for one in field.rich_tables(tables):
            shown.print(one)
        return
    if fmt == "csv":
        text = field.to_csv(tables)
    elif fmt == "table":
        text = field.to_text(tables, generated)
    else:
        text = field.to_markdown(tables, generated)
    _emit(text, out)


def _model_index(
    store: Path | None, dataset: list[str], source: str, protocol: str | None, backbone: list[str], reported: Path, out: Path | None,
    seeds: list[int] | tuple[int, ...],
) -> None:
    """`--format model-index`: the rows as Hugging Face model-index YAML, protocol in every metric name."""
    from ..results.boards import load_table
    from ..results.generated import command_line, stamp
    from ..results.model_index import to_yaml
    from ..results.store import keep_seeds, require

    if store is None and source == "measured":
        from ..results.packaged_board import default_tables

        table, where = default_tables(DEFAULT_STORE)[0], "the published leaderboard"
    elif source == "reported":
        table, where = _reported_rows(protocol, backbone, reported), f"`{reported}`"
    else:
        table = load_table(store if store is not None else DEFAULT_STORE, source, reported)
        where = f"the results store `{store if store is not None else DEFAULT_STORE}`"
    for column, wanted in (("eval_dataset", dataset), ("backbone", backbone), ("protocol", [protocol] if protocol else [])):
        for value in wanted:  # a name the rows lack is refused with the names they have, as the boards do
            require(table, column, value)
        if wanted:
            table = table[table[column].astype(str).isin(wanted)]
    table = keep_seeds(table, seeds)
    command = command_line(store, "model-index", out, DEFAULT_METRIC, dataset, source, protocol, backbone, reported, seeds=seeds)
    text = to_yaml(table, stamp(command, where))
    _emit(text, out)


def _emit(text: str, out: Path | None) -> None:
    """`text` to stdout, or written atomically to `out` with one status line on stderr."""
    from .._atomic import atomic_write_text

    if out is None:
        typer.echo(text, nl=False)
        return
    atomic_write_text(out, text)
    notes.print(f"wrote {out}")


def _wide_console() -> Console:
    """The terminal's console, or for a pipe or file one at least 240 wide: tables are not squeezed into 80 columns."""
    return console if console.is_terminal else Console(width=max(console.width, 240))


def _cost_view(store: Path, backbones: list[str], fmt: str, out: Path | None, skipped: list[str] | None = None) -> None:
    from ..results.costs import cost_table, render_costs, rich_table
    from ..results.generated import command_line

    runs = cost_table(store, backbones)
    if out is None and fmt == "table":
        _wide_console().print(rich_table(runs))
        return
    command = command_line(store, fmt, out, backbones=backbones, view=RUN_COST, skip_damaged=bool(skipped))
    generated = f"Generated by `{command}` from the results store `{store}` ({len(runs)} runs). Do not edit by hand."
    if skipped:
        generated += f" Left out {len(skipped)} damaged store file(s): {'; '.join(s.removeprefix('skipped ') for s in skipped)}."
    text = render_costs(runs, fmt, generated if fmt in ("md", "html") else None)
    _emit(text, out)


def _power_view(
    store: Path, backbones: list[str], seeds: list[int], protocol: str | None, at_iteration: int | None, fmt: str, out: Path | None,
    skipped: list[str],
) -> None:
    """How many paired seeds each backbone's CoIC − baseline needs (`results.power`), at the store's last
    budget or at `at_iteration` (from the learning curves, as the table at that budget); `protocol` keeps
    the numbers computed under it, `seeds` those runs (the budget planned from the first seeds)."""
    from ..results.boards import build
    from ..results.budget import board_at
    from ..results.generated import command_line
    from ..results.power import power_table, render_power

    filters = {"backbones": backbones, "protocol": protocol, "seeds": seeds}
    lb = build(store, **filters) if at_iteration is None else board_at(store, at_iteration, **filters)
    table = power_table(lb)
    if table.empty:
        raise ZooError(f"the results store {store} has no paired baseline and CoIC runs (same backbone, seed and test sets) to size")
    command = command_line(store, fmt, out, protocol=protocol, backbones=backbones, view=POWER, at_iteration=at_iteration,
                           skip_damaged=bool(skipped), seeds=seeds)
    generated = f"Generated by `{command}` from the results store `{store}`. Do not edit by hand."
    _emit(render_power(table, fmt, generated if fmt == "md" else None), out)


def _model_cost_view(
    store: Path | None, backbones: list[str], fmt: str, out: Path | None, append: bool = False, measure: bool = False,
) -> None:
    """Parameters, MACs, CPU time and memory per model, baseline | CoIC; `append` adds them to `out`.

    Read from the store's model-costs.csv (the packaged copy's without --store), so a regenerated
    table is the same file; `measure` runs every model now and stores what it measured."""
    from ..results.costs import model_costs, render_model_costs, save_model_costs, stored_model_costs

    if measure:
        if store is None:
            from ..results.packaged_board import default_tables

            found = model_costs(table=default_tables(DEFAULT_STORE)[0], backbones=backbones)
        else:
            found = model_costs(store, backbones=backbones)
            notes.print(f"stored the measured costs in {save_model_costs(store, found)}")
    else:
        found = stored_model_costs(store, backbones)
    text = render_model_costs(found, fmt)
    if out is not None and append:
        text = out.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + text
    _emit(text, out)



def register(app: typer.Typer) -> None:
    app.command("leaderboard")(leaderboard)
