"""Leaderboard renderers: Markdown, tidy CSV, HTML (the one page of `html.to_page`) and rich terminal tables.

CSV output is tidy: one line per (board, row, test set) with `mean`, `std` and `n` in separate
columns (and, for CoIC − baseline rows, the confidence interval: `ci_low`, `ci_high`, `ci_method`,
`n_images`, `excludes_zero`), never a packed "mean ± std" string. A gain cell reads
"+0.12 [+0.03, +0.21]†": the mean paired difference, its 95% interval, the marker when it excludes zero. Markdown and HTML carry a header naming the command
that generated them and the date: they are regenerated, never edited by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ZooError
from ..evaluation.metric_table import metric_info
from .boards import GAIN, ROW_KEYS, Leaderboard, method_label
from .cells import board_cells
from .html import to_page
from .text import frame_as_csv, markdown_head, tables_as_text

FORMATS = ("table", "md", "csv", "html", "model-index")  # model-index: Hugging Face YAML (`model_index`)
CSV_COLUMNS = (
    "source", "train_data", "protocol", "iterations", "metric", "backbone", "config", "method", "eval_dataset",
    "mean", "std", "n", "best", "ci_low", "ci_high", "ci_method", "n_images", "excludes_zero", "citation",
)


def to_markdown(lb: Leaderboard, generated: str | None = None) -> str:
    lines = markdown_head(f"coic-zoo leaderboard: {metric_info(lb.metric).label}", generated)
    for board in lb.boards:
        lines += [f"## {board.title}", ""]
        for caption in board.captions():
            lines += [caption, ""]
        header = ["backbone", "config", "method", "seeds", "images", *board.datasets]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join(["---"] * 3 + ["---:"] * (len(header) - 3)) + "|")
        for key, cells in board_cells(board):
            texts = [f"**{t}**" if best else t for t, best in cells]
            lines.append("| " + " | ".join([key[0], key[1], method_label(key[2]), board.seeds(key), board.n_images(key), *texts]) + " |")
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
    table["n_images"] = pd.to_numeric(table["n_images"], errors="coerce").astype("Int64")
    return frame_as_csv(table)


def rich_tables(lb: Leaderboard) -> list[Any]:
    from rich import box
    from rich.table import Table

    tables = []
    for board in lb.boards:
        configs = sorted({key[1] for key in board.rows})
        one_config = len(configs) == 1  # then named in the title, not repeated on every row
        title = board.title + (f" [config {configs[0]}]" if one_config else "")
        table = Table(title=title, caption=" ".join(board.captions()), caption_justify="left", box=box.SIMPLE_HEAD)
        for column in ("backbone", *(() if one_config else ("config",)), "method", "seeds", "images"):
            table.add_column(column, justify="right" if column in ("seeds", "images") else "left", no_wrap=True)
        rows = board_cells(board)
        for index, dataset in enumerate(board.datasets):
            widest = max([len(dataset)] + [len(cells[index][0]) + 1 for _, cells in rows])
            table.add_column(dataset, justify="right", no_wrap=True, min_width=widest)
        for key, cells in rows:
            texts = [f"[bold]{t}*[/]" if best else t for t, best in cells]
            label = (key[0],) if one_config else (key[0], key[1])
            table.add_row(*label, method_label(key[2]), board.seeds(key), board.n_images(key), *texts, style="dim" if key[2] == GAIN else None)
        tables.append(table)
    return tables


def to_text(lb: Leaderboard, generated: str | None = None, width: int = 200) -> str:
    return tables_as_text(rich_tables(lb), generated, width)


def render(lb: Leaderboard, fmt: str, generated: str | None = None) -> str:
    if fmt == "md":
        return to_markdown(lb, generated)
    if fmt == "csv":
        return to_csv(lb)
    if fmt == "html":
        return to_page(lb, generated)
    if fmt == "table":
        return to_text(lb, generated)
    raise ZooError(f"--format '{fmt}' is unknown; use {', '.join(FORMATS)}")


def infer_format(fmt: str | None, out: Path | None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise ZooError(f"--format '{fmt}' is unknown; use {', '.join(FORMATS)}")
        return fmt
    suffix = out.suffix.lower() if out is not None else ""
    return {".md": "md", ".csv": "csv", ".html": "html", ".htm": "html", ".yaml": "model-index", ".yml": "model-index"}.get(suffix, "table")
