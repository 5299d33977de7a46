"""The HTML leaderboard: one self-contained page that sorts, filters and shows its figures offline.

`zoo leaderboard --format html` writes it, and `leaderboards/index.html` is one. Everything is inline
(CSS, a few lines of JavaScript, figures as base64 PNG), so the file opens from disk with no network.
It shows each board as the Markdown does (same cell texts, from `render`) and its CoIC-gain figure,
optionally a second store's CoIC − baseline against iterations (`budget.BudgetView`: its figure and
its boards at chosen budgets), the field's reported numbers, then one long table with
a row per (board, row, test set) holding every statistic the board has, extra statistics included
(a confidence interval or a marker column added to `Board.stats` appears without a change here).
Every column header sorts its table (numbers by value, click again to reverse); two selects filter
every table by test set (synthmix's `ddn` domain as `synthmix/ddn`, apart from the real DDN-Data:
`results.test_sets`) and by protocol. The command that regenerates the page is in a comment at
its top and in its body.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..evaluation.metric_table import metric_info
from .boards import AVERAGE, GAIN, Board, Leaderboard, method_label
from .budget import BudgetView
from .cells import board_cells
from .field import FieldTable, params_text, rank_text, short_url
from .stats import LEVEL
from .test_sets import filter_key

# The columns of `Board.stats` the page knows; any other column (a CI, a marker) is shown as it is.
KNOWN_STATS = ("backbone", "config", "method", "eval_dataset", "mean", "std", "n", "best")

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;max-width:90em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:2px 8px}
th{background:#eee;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.gain{background:#f4f4f4}
caption{caption-side:bottom;text-align:left;font-size:smaller;max-width:70em;padding-top:.3em}
pre{background:#f6f6f6;padding:.5em;overflow-x:auto}
.filters{position:sticky;top:0;background:#fff;padding:.4em 0;border-bottom:1px solid #ddd}
.filters label{margin-right:1.5em}
img{max-width:100%}
"""

SCRIPT = """
"use strict";
function sortValue(cell) {
  const raw = cell.getAttribute("data-sort");
  if (raw !== null && raw !== "") { const x = Number(raw); if (!Number.isNaN(x)) return x; }
  return cell.textContent.trim().toLowerCase();
}
function compare(a, b) {
  const numA = typeof a === "number", numB = typeof b === "number";
  if (numA && numB) return a - b;
  if (numA) return -1;
  if (numB) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
function sortBy(header) {
  const table = header.closest("table");
  const body = table.tBodies[0];
  const index = Array.prototype.indexOf.call(header.parentNode.children, header);
  const descending = header.getAttribute("aria-sort") === "ascending";
  for (const other of header.parentNode.children) other.removeAttribute("aria-sort");
  header.setAttribute("aria-sort", descending ? "descending" : "ascending");
  const rows = Array.from(body.rows);
  rows.sort(function (r1, r2) {
    const c = compare(sortValue(r1.cells[index]), sortValue(r2.cells[index]));
    return descending ? -c : c;
  });
  for (const row of rows) body.appendChild(row);
}
function applyFilters() {
  const dataset = document.getElementById("filter-dataset").value;
  const protocol = document.getElementById("filter-protocol").value;
  for (const section of document.querySelectorAll("section.board")) {
    section.hidden = protocol !== "" && section.dataset.protocol !== protocol;
  }
  for (const section of document.querySelectorAll("section.field")) {
    section.hidden = dataset !== "" && section.dataset.dataset !== dataset;
  }
  for (const cell of document.querySelectorAll("[data-col]")) {
    cell.hidden = dataset !== "" && cell.dataset.col !== dataset;
  }
  for (const row of document.querySelectorAll("tr[data-dataset]")) {
    row.hidden = (dataset !== "" && row.dataset.dataset !== dataset) ||
                 (protocol !== "" && row.dataset.protocol !== protocol);
  }
  const shown = document.querySelectorAll("#long tbody tr:not([hidden])").length;
  document.getElementById("shown").textContent = String(shown);
}
document.addEventListener("DOMContentLoaded", function () {
  for (const header of document.querySelectorAll("table.sortable thead th")) {
    header.addEventListener("click", function () { sortBy(header); });
  }
  document.getElementById("filter-dataset").addEventListener("change", applyFilters);
  document.getElementById("filter-protocol").addEventListener("change", applyFilters);
  applyFilters();
});
"""


def to_page(
    lb: Leaderboard, generated: str | None = None, command: str | None = None,
    figures: Sequence[tuple[str, bytes]] = (), field: Sequence[FieldTable] = (), budget: BudgetView | None = None,
) -> str:
    """The page as text; `figures` are (caption, PNG bytes), embedded as data URIs; `budget` (CoIC −
    baseline against iterations, from a store of learning curves) follows the boards, then `field`, the
    reported numbers per test set (`results.field`), all under the same filters."""
    esc = html.escape
    title = f"coic-zoo leaderboard: {metric_info(lb.metric).label}"
    budget_boards = budget.boards if budget is not None else []
    boards = [*lb.boards, *budget_boards]
    datasets = _unique([*(filter_key(d, board.train_data) for board in boards for d in board.datasets), *(t.dataset for t in field)])
    protocols = _unique([*(board.protocol for board in boards), *(p for t in field for p in t.protocols)])
    parts = ["<!DOCTYPE html>"]
    if generated:
        parts.append(f"<!-- {_comment(generated)} -->")
    parts += [
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
        f"<style>{STYLE}</style>",
        f"<script>{SCRIPT}</script>",
        "</head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    if generated:
        parts.append(f"<p>{esc(generated)}</p>")
    if command:
        parts.append(f"<p>Reproduce this page (after filling the store with <code>zoo bench</code>):</p><pre><code>{esc(command)}</code></pre>")
    parts.append('<div class="filters">')
    parts.append(_select("filter-dataset", "test set", datasets))
    parts.append(_select("filter-protocol", "protocol", protocols))
    parts.append('<span><span id="shown"></span> rows in the long table</span></div>')
    for board_index, board in enumerate(lb.boards):
        parts.append(_board_section(board, board_index))
    parts += [_figure(caption, png) for caption, png in figures]
    if budget is not None:
        parts.append(_budget_section(budget, first_index=len(lb.boards)))
    if field:
        parts.append("<h2>The field's published numbers</h2>")
        parts += [_field_section(table) for table in field]
    parts.append(_long_table(lb))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def gain_figure(lb: Leaderboard) -> list[tuple[str, bytes]]:
    """The CoIC-gain bar chart of `zoo leaderboard --plot` as PNG bytes, or nothing without gains."""
    if not any((board.stats["method"] == GAIN).any() for board in lb.boards):
        return []
    from .plot import plot, png_bytes

    png = png_bytes(lambda path: plot(lb, path))
    level = f"{LEVEL:.0%}"
    return [(f"CoIC − baseline {metric_info(lb.metric).label} per test set and backbone: mean over paired seeds with the "
             f"{level} confidence interval of the tables (no bar where one seed gives no interval).", png)]


def _figure(caption: str, png: bytes) -> str:
    esc = html.escape
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img alt="{esc(caption)}" src="data:image/png;base64,{data}"><figcaption>{esc(caption)}</figcaption></figure>'


def _budget_section(budget: BudgetView, first_index: int) -> str:
    """CoIC − baseline against iterations: the figure of `zoo leaderboard --plot`, then a board per budget."""
    esc = html.escape
    level = f"{LEVEL:.0%}"
    steps = ", ".join(dict.fromkeys(str(board.iterations) for board in budget.boards))  # a step with several boards, once
    caption = (f"CoIC − baseline PSNR against training iterations, from the learning curves in {budget.store}: first panel, the "
               f"average over test sets with its {level} t-interval over paired seeds as the band; then each backbone's test sets.")
    parts = [
        '<section class="budget">',
        "<h2>When does CoIC pay off? CoIC − baseline against the training budget</h2>",
        f"<p>From the results store <code>{esc(str(budget.store))}</code>: runs scored on the test sets during training "
        f"(<code>--eval-every</code>), paired by seed. The tables are the boards at {esc(steps)} iterations; their CoIC − baseline "
        f"rows carry the same {level} interval as the figure's band.</p>",
        _figure(caption, budget.figure),
        "</section>",
    ]
    parts += [_board_section(board, first_index + i, level=3, lead="From the learning curves: ")
              for i, board in enumerate(budget.boards)]
    return "\n".join(parts)


def _board_section(board: Board, board_index: int, level: int = 2, lead: str = "") -> str:
    """One board as a sortable table under an h`level` heading: `lead`, then the board's title."""
    esc = html.escape
    lines = [f'<section class="board" data-protocol="{esc(board.protocol)}">', f"<h{level}>{esc(lead + board.title)}</h{level}>"]
    lines.append(f'<table class="sortable" id="board-{board_index}">')
    lines.append("<caption>" + "<br>".join(esc(c) for c in board.captions()) + "</caption>")
    header = "".join(f"<th>{esc(h)}</th>" for h in ("backbone", "config", "method", "seeds"))
    columns = [filter_key(d, board.train_data) for d in board.datasets]  # the test-set filter's values
    header += "".join(f'<th data-col="{esc(column)}">{esc(d)}</th>' for d, column in zip(board.datasets, columns))
    lines.append(f"<thead><tr>{header}</tr></thead><tbody>")
    for key, cells in board_cells(board):
        klass = ' class="gain"' if key[2] == GAIN else ""
        tds = [f"<td>{esc(key[0])}</td>", f"<td>{esc(key[1])}</td>", f"<td>{esc(method_label(key[2]))}</td>",
               f'<td class="num">{esc(board.seeds(key))}</td>']
        for dataset, column, (text, best) in zip(board.datasets, columns, cells):
            row = board.cell(key, dataset)
            value = "" if row is None or pd.isna(row["mean"]) else repr(float(row["mean"]))
            shown = f"<b>{esc(text)}</b>" if best else esc(text)
            tds.append(f'<td class="num" data-col="{esc(column)}" data-sort="{value}">{shown}</td>')
        lines.append(f"<tr{klass}>" + "".join(tds) + "</tr>")
    lines.append("</tbody></table></section>")
    return "\n".join(lines)


def _field_section(table: FieldTable) -> str:
    """One test set's reported numbers; rows carry their protocol so the protocol filter applies."""
    esc = html.escape
    lines = [f'<section class="field" data-dataset="{esc(table.dataset)}">', f"<h3>{esc(table.dataset)}: reported</h3>"]
    lines.append('<table class="sortable">')
    lines.append("<caption>" + "<br>".join(esc(c) for c in table.captions()) + "</caption>")
    header = ("rank", "method", "PSNR", "SSIM", "protocol", "trained on", "params", "venue", "source")
    lines.append("<thead><tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr></thead><tbody>")
    for _, row in table.rows.iterrows():
        rank = "" if pd.isna(row["rank"]) else str(int(row["rank"]))
        link = f'<a href="{esc(row["source_url"])}">{esc(short_url(row["source_url"]))}</a>' if row["source_url"] else ""
        cells = [
            f'<td class="num" data-sort="{rank}">{esc(rank_text(row))}</td>', _td(row["method"]),
            _num(row["psnr"], metric_info("psnr").digits), _num(row["ssim"], metric_info("ssim").digits), _td(row["protocol"]),
            _td(row["train_data"]), f'<td class="num">{esc(params_text(row["params"]))}</td>',
            _td(f"{row['venue']} {row['year']}".strip()), f"<td>{link}</td>",
        ]
        lines.append(f'<tr data-dataset="{esc(table.dataset)}" data-protocol="{esc(row["protocol"])}">' + "".join(cells) + "</tr>")
    lines.append("</tbody></table></section>")
    return "\n".join(lines)


def _long_table(lb: Leaderboard) -> str:
    """Every statistic of every board, one row per (board, row, test set), for sorting across boards."""
    esc = html.escape
    extras = _unique(c for board in lb.boards for c in board.stats.columns if c not in KNOWN_STATS)
    header = ["source", "train data", "iterations", "protocol", "backbone", "config", "method", "test set",
              "mean", "std", "n", *extras, "best"]
    lines = [
        "<h2>All numbers</h2>",
        '<table class="sortable" id="long">',
        "<caption>One row per board, row and test set: the numbers of the tables above, every statistic the "
        f"boards have. {esc(metric_info(lb.metric).label)}; n = seeds.</caption>",
        "<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr></thead><tbody>",
    ]
    digits = metric_info(lb.metric).digits
    for board in lb.boards:
        order = {d: i for i, d in enumerate(board.datasets)}
        rows = {k: i for i, k in enumerate(board.rows)}
        stats = board.stats.assign(
            _row=[rows.get((b, c, m), 0) for b, c, m in zip(board.stats["backbone"], board.stats["config"], board.stats["method"])],
            _col=board.stats["eval_dataset"].map(order),
        ).sort_values(["_row", "_col"])
        for _, stat in stats.iterrows():
            dataset = str(stat["eval_dataset"])
            cells = [_td(board.source), _td(board.train_data), _num(board.iterations, 0), _td(board.protocol),
                     _td(stat["backbone"]), _td(stat["config"]), _td(method_label(str(stat["method"]))), _td(dataset),
                     _num(stat["mean"], digits), _num(stat["std"], digits), _num(stat["n"], 0)]
            cells += [_num(stat[c], digits) if _is_number(stat.get(c)) else _td(stat.get(c)) for c in extras]
            cells.append(_td("yes" if _truthy(stat.get("best")) else ""))
            klass = ' class="gain"' if stat["method"] == GAIN else ""
            key = filter_key(dataset, board.train_data)
            lines.append(f'<tr{klass} data-dataset="{esc(key)}" data-protocol="{esc(board.protocol)}">' + "".join(cells) + "</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def _select(element_id: str, label: str, values: list[str]) -> str:
    esc = html.escape
    options = '<option value="">all</option>' + "".join(f'<option value="{esc(v)}">{esc(v)}</option>' for v in values)
    return f'<label>{esc(label)} <select id="{element_id}">{options}</select></label>'


def _td(value: Any) -> str:
    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    return f"<td>{html.escape(text)}</td>"


def _num(value: Any, digits: int) -> str:
    if value is None or pd.isna(value):
        return '<td class="num" data-sort=""></td>'
    number = float(value)
    text = f"{number:.{digits}f}" if digits else str(int(round(number)))
    return f'<td class="num" data-sort="{number!r}">{html.escape(text)}</td>'


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _truthy(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value)) and bool(value)


def _unique(values: Any) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(str(value), None)
    ordered = list(seen)
    return [v for v in ordered if v != AVERAGE] + ([AVERAGE] if AVERAGE in seen else [])


def _comment(text: str) -> str:
    """`text` made safe inside an HTML comment: only `-->` (and `--!>`) would end it early."""
    return text.replace("-->", "-- >").replace("--!>", "-- !>")
