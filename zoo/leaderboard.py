"""Leaderboards: pandas pivots of the results store, rendered as a terminal table, Markdown, CSV or HTML.

One board per (source, training data, protocol, iterations[, citation]): numbers are only put side by
side when they were produced the same way. In a board, rows are backbone x config x method, columns
the test sets (plus their average), and a cell is the mean ± sample std over seeds of one metric.
Each backbone with both methods gets a "CoIC − baseline" row: per seed, CoIC minus baseline, then the
mean ± std of those differences over the seeds both methods ran. The best mean per column is marked.
Reported numbers (`source=reported`, from `leaderboards/reported/*.csv`) are kept on their own boards,
captioned with their citation.

CSV output is tidy: one line per (board, row, test set) with `mean`, `std` and `n` in separate
columns, never a packed "mean ± std" string. Markdown and HTML files carry a header naming the
command that generated them and the date: they are regenerated, never edited by hand.
"""

from __future__ import annotations

import html
import io
import shlex
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from ._atomic import atomic_write, atomic_write_text
from .errors import ZooError
from .results import DEFAULT_STORE, ResultsStore, require

DEFAULT_REPORTED = Path("leaderboards/reported")
SOURCES = ("measured", "reported", "all")
FORMATS = ("table", "md", "csv", "html")
GAIN = "coic-baseline"  # the method name of the CoIC-minus-baseline rows (in CSV)
AVERAGE = "average"
LOWER_BETTER = frozenset({"niqe"})
LABELS = {"psnr": "PSNR", "ssim": "SSIM", "input_psnr": "input PSNR", "input_ssim": "input SSIM", "niqe": "NIQE"}
UNITS = {"psnr": " (dB)", "input_psnr": " (dB)"}
DIGITS = {"psnr": 2, "input_psnr": 2, "ssim": 4, "input_ssim": 4, "niqe": 3}
METHOD_LABELS = {"baseline": "baseline", "coic": "CoIC", GAIN: "CoIC − baseline"}
CSV_COLUMNS = (
    "source", "train_data", "protocol", "iterations", "metric", "backbone", "config", "method", "eval_dataset",
    "mean", "std", "n", "best", "citation",
)
ROW_KEYS = ["backbone", "config", "method"]


@dataclass
class Board:
    """One comparable group of results and its statistics."""

    source: str
    train_data: str
    protocol: str
    iterations: int | None
    citation: str
    metric: str
    datasets: list[str]  # column order: known test sets in the suite's order, others A-Z, then the average
    stats: pd.DataFrame  # backbone, config, method, eval_dataset, mean, std, n, best
    runs: int
    tiled: bool = False

    @property
    def title(self) -> str:
        budget = f", {self.iterations} iterations" if self.iterations is not None else ""
        return (
            f"{LABELS.get(self.metric, self.metric)}{UNITS.get(self.metric, '')}, {self.source}: trained on "
            f"{self.train_data}{budget}, protocol {self.protocol}"
        )

    @property
    def rows(self) -> list[tuple[str, str, str]]:
        """(backbone, config, method) in display order: per backbone, baseline, CoIC, others, the gain."""
        order = {"baseline": 0, "coic": 1, GAIN: 3}
        keys = {tuple(k) for k in self.stats[ROW_KEYS].itertuples(index=False)}
        return sorted(keys, key=lambda k: (k[0], k[1], order.get(k[2], 2), k[2]))  # type: ignore[return-value]

    def captions(self) -> list[str]:
        from .metrics import PROTOCOLS

        better = "lower" if self.metric in LOWER_BETTER else "higher"
        lines = []
        if self.protocol in PROTOCOLS:
            lines.append(f"Protocol {self.protocol}: {PROTOCOLS[self.protocol].description}.")
        else:
            lines.append(f"Protocol {self.protocol}.")
        if self.source == "reported":
            lines.append(f"Reported, not measured by coic-zoo: {self.citation}.")
            lines.append("Best per column marked; the CoIC − baseline row and the average are computed here from the reported values.")
        else:
            lines.append(
                f"Cells: mean ± sample std over seeds (n = seeds); best mean per column marked ({better} is better); "
                f"CoIC − baseline: per-seed difference, mean ± std over the seeds both methods ran. {self.runs} runs."
            )
        if AVERAGE in self.datasets:
            per_seed = "" if self.source == "reported" else "per seed, "
            then = "" if self.source == "reported" else ", then over seeds"
            lines.append(f"{AVERAGE}: {per_seed}the mean over the {len(self.datasets) - 1} test sets{then}.")
        if self.tiled:
            lines.append("Some numbers come from tiled inference (see the `tiled` column of the store).")
        return lines

    def cell(self, key: tuple[str, str, str], dataset: str) -> pd.Series | None:
        s = self.stats
        match = s[(s["backbone"] == key[0]) & (s["config"] == key[1]) & (s["method"] == key[2]) & (s["eval_dataset"] == dataset)]
        return None if match.empty else match.iloc[0]

    def seeds(self, key: tuple[str, str, str]) -> str:
        if self.source == "reported":
            return "–"
        s = self.stats
        n = s[(s["backbone"] == key[0]) & (s["config"] == key[1]) & (s["method"] == key[2])]["n"]
        low, high = int(n.min()), int(n.max())
        return str(low) if low == high else f"{low}–{high}"

    def pivot(self, value: str = "mean") -> pd.DataFrame:
        """rows x test sets of `value` (mean, std or n)."""
        table = self.stats.pivot_table(index=ROW_KEYS, columns="eval_dataset", values=value, aggfunc="first", dropna=False)
        return table.reindex(index=pd.MultiIndex.from_tuples(self.rows, names=ROW_KEYS), columns=self.datasets)


@dataclass
class Leaderboard:
    boards: list[Board]
    metric: str
    store: Path
    source: str
    n_rows: int
    code_versions: list[str] = field(default_factory=list)
    command: str = ""


# ---------------------------------------------------------------------------------------------
# Building


def load_table(store: Path = DEFAULT_STORE, source: str = "measured", reported: Path | None = DEFAULT_REPORTED) -> pd.DataFrame:
    if source not in SOURCES:
        raise ZooError(f"--source '{source}' is unknown; use {', '.join(SOURCES)}")
    include = Path(reported) if reported is not None and source != "measured" else None
    table = ResultsStore(store).load(include_reported=include)
    if table.empty:
        where = f"the results store {store}" + (f" or {include}" if include is not None else "")
        raise ZooError(f"no rows in {where}; fill the store with `zoo bench MATRIX.yaml --store {store}`")
    if source != "all":
        table = require(table, "source", source)
    return table


def build(
    store: str | Path = DEFAULT_STORE,
    metric: str = "psnr",
    datasets: list[str] | tuple[str, ...] = (),
    source: str = "measured",
    protocol: str | None = None,
    backbones: list[str] | tuple[str, ...] = (),
    reported: str | Path | None = DEFAULT_REPORTED,
    table: pd.DataFrame | None = None,
) -> Leaderboard:
    """The leaderboard of `store` (or of `table`); a metric, test set, protocol or backbone the store
    lacks raises a `ZooError` listing the ones it has."""
    store = Path(store)
    if table is None:
        table = load_table(store, source, Path(reported) if reported is not None else None)
    table = require(table, "metric", metric)
    for column, wanted in (("eval_dataset", datasets), ("backbone", backbones)):
        for value in wanted:
            require(table, column, value)
        if wanted:
            table = table[table[column].astype(str).isin(list(wanted))]
    if protocol:
        table = require(table, "protocol", protocol)
    boards = boards_of(table, metric)
    versions = sorted({str(v) for v in table.loc[table["source"] == "measured", "code_version"].dropna().unique()})
    return Leaderboard(boards, metric, store, source, len(table), versions)


def boards_of(table: pd.DataFrame, metric: str) -> list[Board]:
    """Split `table` (rows of one metric) into comparable groups and compute each group's statistics."""
    table = table.copy()
    for column in ("train_data", "protocol", "citation", "config"):
        table[column] = [("" if pd.isna(v) else str(v)) for v in table[column]]
    table["iterations"] = pd.to_numeric(table["iterations"], errors="coerce").fillna(-1).astype(int)
    table["seed"] = pd.to_numeric(table["seed"], errors="coerce").fillna(-1).astype(int)
    table["value"] = pd.to_numeric(table["value"], errors="coerce")
    table.loc[table["source"] != "reported", "citation"] = ""
    boards = []
    group_keys = ["source", "train_data", "protocol", "iterations", "citation"]
    for (source, train_data, protocol, iterations, citation), group in table.groupby(group_keys, sort=True):
        datasets = _dataset_order(group["eval_dataset"].astype(str).unique())
        stats = _statistics(group, datasets, lower_better=metric in LOWER_BETTER)
        if len(datasets) > 1:
            datasets.append(AVERAGE)
        tiled = bool(group["tiled"].astype(str).str.lower().isin(["true", "1"]).any())
        boards.append(Board(
            str(source), train_data, protocol, None if iterations < 0 else int(iterations), citation, metric, datasets,
            stats, int(group["run"].nunique()), tiled,
        ))
    boards.sort(key=lambda b: (b.source != "measured", b.train_data, b.protocol, b.iterations or 0, b.citation))
    return boards


def _dataset_order(names: Any) -> list[str]:
    """The suite's own order for the test sets it knows (synthmix domains, then real sets), then A-Z."""
    from .data.mixing import REAL_DATASETS
    from .data.synth import HELD_OUT_DOMAINS, TRAIN_DOMAINS

    names = [str(n) for n in names]
    # "ddn" is both a synthmix domain and a real set: use the order that knows most of the names.
    orders = [(*TRAIN_DOMAINS, *HELD_OUT_DOMAINS), REAL_DATASETS]
    known = max(orders, key=lambda order: sum(n in order for n in names))
    rank = {name: i for i, name in enumerate(known)}
    return sorted(names, key=lambda n: (rank.get(n, len(known)), n))


def _statistics(group: pd.DataFrame, datasets: list[str], lower_better: bool) -> pd.DataFrame:
    group = group.assign(eval_dataset=group["eval_dataset"].astype(str))
    per_seed = group.groupby([*ROW_KEYS, "seed", "eval_dataset"], sort=False)["value"].mean().reset_index()
    if len(datasets) > 1:  # the average over test sets, only for seeds that ran all of them
        wide = per_seed.pivot_table(index=[*ROW_KEYS, "seed"], columns="eval_dataset", values="value").reindex(columns=datasets)
        average = wide.dropna().mean(axis=1).rename("value").reset_index().assign(eval_dataset=AVERAGE)
        per_seed = pd.concat([per_seed, average], ignore_index=True)
    stats = _aggregate(per_seed, ROW_KEYS + ["eval_dataset"])
    gains = _gains(per_seed)
    best = stats.groupby("eval_dataset")["mean"].transform("min" if lower_better else "max")
    stats["best"] = stats["mean"] == best
    if not gains.empty:
        gains["best"] = False
        stats = pd.concat([stats, gains], ignore_index=True)
    return stats


def _aggregate(values: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = values.groupby(keys, sort=False)["value"].agg(mean="mean", std="std", n="count").reset_index()
    out["n"] = out["n"].astype(int)
    return out


def _gains(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Per backbone and test set: CoIC minus baseline per seed, then mean, std and count over seeds."""
    wide = per_seed.pivot_table(index=["backbone", "config", "eval_dataset", "seed"], columns="method", values="value")
    if "coic" not in wide.columns or "baseline" not in wide.columns:
        return pd.DataFrame(columns=[*ROW_KEYS, "eval_dataset", "mean", "std", "n"])
    diff = (wide["coic"] - wide["baseline"]).dropna().rename("value").reset_index()
    if diff.empty:
        return pd.DataFrame(columns=[*ROW_KEYS, "eval_dataset", "mean", "std", "n"])
    diff["method"] = GAIN
    return _aggregate(diff, ROW_KEYS + ["eval_dataset"])


# ---------------------------------------------------------------------------------------------
# Rendering


def _format(row: pd.Series | None, metric: str, gain: bool = False) -> str:
    if row is None or pd.isna(row["mean"]):
        return "–"
    digits = DIGITS.get(metric, 3)
    sign = "+" if gain else ""
    text = f"{row['mean']:{sign}.{digits}f}"
    if row["n"] >= 2 and not pd.isna(row["std"]):
        text += f" ± {row['std']:.{digits}f}"
    return text


def _cells(board: Board) -> list[tuple[tuple[str, str, str], list[tuple[str, bool]]]]:
    """Per row: its key and (text, best) for every column."""
    out = []
    for key in board.rows:
        cells = []
        for dataset in board.datasets:
            row = board.cell(key, dataset)
            best = row is not None and not pd.isna(row.get("best")) and bool(row.get("best"))
            cells.append((_format(row, board.metric, key[2] == GAIN), best))
        out.append((key, cells))
    return out


def _method(method: str) -> str:
    return METHOD_LABELS.get(method, method)


def to_markdown(lb: Leaderboard, generated: str | None = None) -> str:
    lines = []
    if generated:
        lines += [f"<!-- {generated} -->", ""]
    lines += [f"# coic-zoo leaderboard: {LABELS.get(lb.metric, lb.metric)}", ""]
    if generated:
        lines += [f"{generated}", ""]
    for board in lb.boards:
        lines += [f"## {board.title}", ""]
        for caption in board.captions():
            lines += [caption, ""]
        header = ["backbone", "config", "method", "seeds", *board.datasets]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join(["---"] * 3 + ["---:"] * (len(header) - 3)) + "|")
        for key, cells in _cells(board):
            texts = [f"**{t}**" if best else t for t, best in cells]
            lines.append("| " + " | ".join([key[0], key[1], _method(key[2]), board.seeds(key), *texts]) + " |")
        lines.append("")
    return "\n".join(lines)


def to_csv(lb: Leaderboard) -> str:
    frames = []
    for board in lb.boards:
        stats = board.stats.copy()
        stats["source"], stats["train_data"], stats["protocol"] = board.source, board.train_data, board.protocol
        stats["iterations"] = board.iterations
        stats["metric"], stats["citation"] = board.metric, board.citation
        order = {d: i for i, d in enumerate(board.datasets)}
        rows = {k: i for i, k in enumerate(board.rows)}
        stats["_row"] = [rows[tuple(k)] for k in stats[ROW_KEYS].itertuples(index=False)]
        stats["_col"] = stats["eval_dataset"].map(order)
        frames.append(stats.sort_values(["_row", "_col"]))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(CSV_COLUMNS))
    table = table.reindex(columns=list(CSV_COLUMNS))
    table["iterations"] = table["iterations"].astype("Int64")
    table["best"] = table["best"].astype(bool)
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, float_format="%.6g", lineterminator="\n")
    return buffer.getvalue()


def to_html(lb: Leaderboard, generated: str | None = None) -> str:
    esc = html.escape
    title = f"coic-zoo leaderboard: {LABELS.get(lb.metric, lb.metric)}"
    parts = [
        "<!DOCTYPE html>", f"<!-- {esc(generated)} -->" if generated else "", "<html><head><meta charset=\"utf-8\">",
        f"<title>{esc(title)}</title>",
        (
            "<style>body{font-family:sans-serif}table{border-collapse:collapse;margin:1em 0}"
            "td,th{border:1px solid #ccc;padding:2px 8px}td.num{text-align:right}caption{caption-side:bottom;"
            "text-align:left;font-size:smaller;max-width:60em}tr.gain{background:#f4f4f4}</style>"
        ),
        "</head><body>", f"<h1>{esc(title)}</h1>",
    ]
    if generated:
        parts.append(f"<p>{esc(generated)}</p>")
    for board in lb.boards:
        parts.append(f"<h2>{esc(board.title)}</h2><table>")
        parts.append("<caption>" + "<br>".join(esc(c) for c in board.captions()) + "</caption>")
        header = ["backbone", "config", "method", "seeds", *board.datasets]
        parts.append("<tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>")
        for key, cells in _cells(board):
            klass = ' class="gain"' if key[2] == GAIN else ""
            tds = [f"<td>{esc(key[0])}</td>", f"<td>{esc(key[1])}</td>", f"<td>{esc(_method(key[2]))}</td>",
                   f"<td class=\"num\">{esc(board.seeds(key))}</td>"]
            tds += [f"<td class=\"num\">{'<b>' + esc(t) + '</b>' if best else esc(t)}</td>" for t, best in cells]
            parts.append(f"<tr{klass}>" + "".join(tds) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p) + "\n"


def rich_tables(lb: Leaderboard) -> list[Any]:
    from rich import box
    from rich.table import Table

    tables = []
    for board in lb.boards:
        configs = sorted({key[1] for key in board.rows})
        one_config = len(configs) == 1  # then named in the title, not repeated on every row
        title = board.title + (f" [config {configs[0]}]" if one_config else "")
        table = Table(title=title, caption=" ".join(board.captions()), caption_justify="left", box=box.SIMPLE_HEAD)
        for column in ("backbone", *(() if one_config else ("config",)), "method", "seeds"):
            table.add_column(column, justify="left" if column != "seeds" else "right", no_wrap=True)
        rows = _cells(board)
        for index, dataset in enumerate(board.datasets):
            widest = max([len(dataset)] + [len(cells[index][0]) + 1 for _, cells in rows])
            table.add_column(dataset, justify="right", no_wrap=True, min_width=widest)
        for key, cells in rows:
            texts = [f"[bold]{t}*[/]" if best else t for t, best in cells]
            label = (key[0],) if one_config else (key[0], key[1])
            table.add_row(*label, _method(key[2]), board.seeds(key), *texts, style="dim" if key[2] == GAIN else None)
        tables.append(table)
    return tables


def to_text(lb: Leaderboard, generated: str | None = None, width: int = 200) -> str:
    from rich.console import Console

    console = Console(record=True, width=width, file=io.StringIO(), color_system=None)
    if generated:
        console.print(generated, highlight=False)
    for table in rich_tables(lb):
        console.print(table)
    return console.export_text()


def render(lb: Leaderboard, fmt: str, generated: str | None = None) -> str:
    if fmt == "md":
        return to_markdown(lb, generated)
    if fmt == "csv":
        return to_csv(lb)
    if fmt == "html":
        return to_html(lb, generated)
    if fmt == "table":
        return to_text(lb, generated)
    raise ZooError(f"--format '{fmt}' is unknown; use {', '.join(FORMATS)}")


def plot(lb: Leaderboard, path: str | Path) -> Path:
    """A grouped bar chart of the CoIC gain (mean ± std over seeds) per test set and backbone."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    boards = [b for b in lb.boards if (b.stats["method"] == GAIN).any()]
    if not boards:
        raise ZooError("nothing to plot: no backbone has both baseline and CoIC results on the same seeds")
    fig, axes = plt.subplots(len(boards), 1, figsize=(max(6.0, 1.1 * max(len(b.datasets) for b in boards) + 2), 3.6 * len(boards)), squeeze=False)
    for ax, board in zip(axes[:, 0], boards):
        gains = board.stats[board.stats["method"] == GAIN]
        keys = sorted({(b, c) for b, c in zip(gains["backbone"], gains["config"])})
        configs = {c for _, c in keys}
        width = 0.8 / max(len(keys), 1)
        for i, (backbone, config) in enumerate(keys):
            rows = gains[(gains["backbone"] == backbone) & (gains["config"] == config)].set_index("eval_dataset")
            rows = rows.reindex(board.datasets)
            xs = [j + (i - (len(keys) - 1) / 2) * width for j in range(len(board.datasets))]
            label = backbone if len(configs) == 1 else f"{backbone} ({config})"
            spread = rows["std"].where(rows["n"] >= 2)  # no error bar from a single seed
            ax.bar(xs, rows["mean"].fillna(0.0), width, yerr=spread, capsize=2, label=label)
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_xticks(range(len(board.datasets)))
        ax.set_xticklabels(board.datasets, rotation=20, ha="right")
        ax.set_ylabel(f"CoIC − baseline {LABELS.get(board.metric, board.metric)}{UNITS.get(board.metric, '')}")
        ax.set_title(board.title, fontsize=9)
        ax.legend(fontsize=8, ncol=min(len(keys), 5))
    fig.tight_layout()
    path = Path(path)
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------------------------
# Files


def command_line(
    store: Path, fmt: str, out: Path | None = None, metric: str = "psnr", datasets: tuple[str, ...] | list[str] = (),
    source: str = "measured", protocol: str | None = None, backbones: tuple[str, ...] | list[str] = (),
    reported: Path | None = DEFAULT_REPORTED, plot_path: Path | None = None,
) -> str:
    """The `zoo leaderboard` command that produces this output (written into generated files)."""
    parts = ["zoo", "leaderboard", "--store", str(store)]
    if source != "measured":
        parts += ["--source", source]
        if reported is not None and Path(reported) != DEFAULT_REPORTED:
            parts += ["--reported", str(reported)]
    if metric != "psnr":
        parts += ["--metric", metric]
    for dataset in datasets:
        parts += ["--dataset", dataset]
    if protocol:
        parts += ["--protocol", protocol]
    for backbone in backbones:
        parts += ["--backbone", backbone]
    parts += ["--format", fmt]
    if out is not None:
        parts += ["--out", str(out)]
    if plot_path is not None:
        parts += ["--plot", str(plot_path)]
    return shlex.join(parts)


def generated_line(lb: Leaderboard, command: str) -> str:
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    versions = ", ".join(lb.code_versions[:3]) + (" …" if len(lb.code_versions) > 3 else "")
    code = f"; code {versions}" if versions else ""
    return (
        f"Generated by `{command}` on {today} (UTC) from the results store `{lb.store}` "
        f"({lb.n_rows} rows{code}). Do not edit by hand: re-run the command."
    )


def infer_format(fmt: str | None, out: Path | None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise ZooError(f"--format '{fmt}' is unknown; use {', '.join(FORMATS)}")
        return fmt
    suffix = out.suffix.lower() if out is not None else ""
    return {".md": "md", ".csv": "csv", ".html": "html", ".htm": "html"}.get(suffix, "table")


def write(lb: Leaderboard, fmt: str, out: Path, command: str | None = None) -> Path:
    command = command or command_line(lb.store, fmt, out, lb.metric, source=lb.source)
    text = render(lb, fmt, generated_line(lb, command) if fmt != "csv" else None)
    return atomic_write_text(out, text)


def publish(
    store: str | Path = DEFAULT_STORE, stem: str | Path = "leaderboards/synthmix-cpu", metric: str = "psnr",
    source: str = "measured", reported: Path | None = DEFAULT_REPORTED, plot_file: bool = True,
) -> list[Path]:
    """Write `<stem>.md` and `<stem>.csv` (and `<stem>.png`, the CoIC gains) from the store.

    Each file names the `zoo leaderboard` command that regenerates it.
    """
    store, stem = Path(store), Path(stem)
    lb = build(store, metric=metric, source=source, reported=reported)
    written = []
    for fmt in ("md", "csv"):
        out = stem.with_suffix(f".{fmt}")
        written.append(write(lb, fmt, out, command_line(store, fmt, out, metric, source=source, reported=reported)))
    if plot_file and any((b.stats["method"] == GAIN).any() for b in lb.boards):
        written.append(plot(lb, stem.with_suffix(".png")))
    return written


__all__ = [
    "Board", "Leaderboard", "boards_of", "build", "command_line", "infer_format", "load_table", "plot", "publish",
    "render", "to_csv", "to_html", "to_markdown", "write",
]
