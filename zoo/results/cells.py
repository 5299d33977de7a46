"""The text of every cell of a board, shared by the Markdown, terminal and HTML renderers.

A value reads "mean ± std" over seeds; a CoIC − baseline cell "+gain [low, high]" with a † when the
95% interval excludes zero.
"""

from __future__ import annotations

import pandas as pd

from ..evaluation.metric_table import metric_info
from .boards import GAIN, Board
from .stats import MARKER


def format_cell(row: pd.Series | None, metric: str, gain: bool = False) -> str:
    if row is None or pd.isna(row["mean"]):
        return "–"
    digits = metric_info(metric).digits
    sign = "+" if gain else ""
    text = f"{row['mean']:{sign}.{digits}f}"
    if gain and not pd.isna(row.get("ci_low", float("nan"))):
        text += f" [{row['ci_low']:+.{digits}f}, {row['ci_high']:+.{digits}f}]"
        return text + (MARKER if bool(row.get("excludes_zero")) else "")
    if row["n"] >= 2 and not pd.isna(row["std"]):
        text += f" ± {row['std']:.{digits}f}"
    return text


def board_cells(board: Board) -> list[tuple[tuple[str, str, str], list[tuple[str, bool]]]]:
    """Per row: its key and (text, best) for every column."""
    out = []
    for key in board.rows:
        cells = []
        for dataset in board.datasets:
            row = board.cell(key, dataset)
            best = row is not None and not pd.isna(row.get("best")) and bool(row.get("best"))
            cells.append((format_cell(row, board.metric, key[2] == GAIN), best))
        out.append((key, cells))
    return out
