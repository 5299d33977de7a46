"""The cost view of a results store (`zoo leaderboard --cost`): one line per measured run.

A leaderboard compares what runs scored; this view says what each cost and where it ran: device,
precision, effective batch, training throughput (images/s), peak GPU memory, wall time, parameters
and MACs, as the run recorded them (`zoo.evaluation.records.COST_COLUMNS`). Rows from stores
written before those columns existed show them empty.
"""

from __future__ import annotations

import html
import io
from pathlib import Path

import pandas as pd

from ..errors import ZooError
from .boards import ROW_KEYS, load_table, method_label

COLUMNS = (
    "backbone", "config", "method", "seed", "train_data", "iterations", "device", "precision", "effective_batch",
    "images_per_s", "peak_memory_gib", "wall_time_s", "params", "macs", "run",
)
HEADERS = {
    "effective_batch": "batch", "images_per_s": "images/s", "peak_memory_gib": "peak GiB", "wall_time_s": "train s",
    "train_data": "data",
}
DIGITS = {"images_per_s": 1, "peak_memory_gib": 2, "wall_time_s": 0}
INTEGERS = ("seed", "iterations", "effective_batch", "params", "macs")


def cost_table(store: str | Path, backbones: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per measured run of `store` (the newest rows of each run), in leaderboard order."""
    table = load_table(Path(store), "measured", None)
    if backbones:
        unknown = sorted(set(backbones) - set(table["backbone"].astype(str)))
        if unknown:
            have = ", ".join(sorted(table["backbone"].astype(str).unique()))
            raise ZooError(f"the results store has no backbone {unknown[0]!r}; it has: {have}")
        table = table[table["backbone"].astype(str).isin(list(backbones))]
    runs = table.drop_duplicates(subset=["run"], keep="last").reindex(columns=list(COLUMNS))
    return runs.sort_values([*ROW_KEYS, "seed", "train_data"], kind="stable").reset_index(drop=True)


def _text(column: str, value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[call-overload]
        return "–"
    if column == "method":
        return method_label(str(value))
    if column in DIGITS:
        return f"{float(value):,.{DIGITS[column]}f}"  # type: ignore[arg-type]
    if column in INTEGERS:
        return f"{int(float(value)):,}" if column in ("params", "macs") else str(int(float(value)))  # type: ignore[arg-type]
    return str(value)


def render_costs(runs: pd.DataFrame, fmt: str, generated: str | None = None) -> str:
    """The cost view as md, csv, html or plain text (`table`)."""
    headers = [HEADERS.get(c, c) for c in COLUMNS]
    cells = [[_text(c, row[c]) for c in COLUMNS] for _, row in runs.iterrows()]
    if fmt == "csv":
        buffer = io.StringIO()
        runs.to_csv(buffer, index=False, float_format="%.6g", lineterminator="\n")
        return buffer.getvalue()
    if fmt == "md":
        lines = [f"<!-- {generated} -->", ""] if generated else []
        lines += ["# coic-zoo runs: cost and hardware", ""] + ([generated, ""] if generated else [])
        lines.append("| " + " | ".join(headers) + " |")
        lines.append("|" + "|".join("---:" if c in DIGITS or c in INTEGERS else "---" for c in COLUMNS) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in cells]
        return "\n".join(lines) + "\n"
    if fmt == "html":
        head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in cells)
        note = f"<p>{html.escape(generated)}</p>" if generated else ""
        return f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>coic-zoo runs</title></head><body>{note}<table><tr>{head}</tr>{body}</table></body></html>\n"
    if fmt == "table":
        return to_text(runs)
    raise ZooError(f"--format '{fmt}' is unknown; use table, md, csv or html")


def rich_table(runs: pd.DataFrame) -> object:
    from rich import box
    from rich.table import Table

    table = Table(title="runs: cost and hardware", box=box.SIMPLE_HEAD)
    for column in COLUMNS:
        table.add_column(HEADERS.get(column, column), justify="right" if column in DIGITS or column in INTEGERS else "left")
    for _, row in runs.iterrows():
        table.add_row(*[_text(c, row[c]) for c in COLUMNS])
    return table


def to_text(runs: pd.DataFrame, width: int = 240) -> str:
    from rich.console import Console

    console = Console(record=True, width=width, file=io.StringIO(), color_system=None)
    console.print(rich_table(runs))
    return console.export_text()
