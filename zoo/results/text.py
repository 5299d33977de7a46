"""Generated tables as text: rich tables as plain text (what `--format table --out FILE` writes), and the
markdown and CSV pieces every view's `md` and `csv` output is made of, so the views print alike."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def tables_as_text(tables: Iterable[Any], generated: str | None = None, width: int = 200) -> str:
    """The rich `tables`, printed one after another without colour at `width` columns, under `generated`."""
    from rich.console import Console

    console = Console(record=True, width=width, file=io.StringIO(), color_system=None)
    if generated:
        console.print(generated, highlight=False)
    for table in tables:
        console.print(table)
    return console.export_text()


def markdown_head(title: str, generated: str | None = None) -> list[str]:
    """The first lines of a generated markdown file: the regenerating command as a comment (kept in the
    source), the title, then the command again where a rendered page shows it."""
    lines = [f"<!-- {generated} -->", ""] if generated else []
    return lines + [f"# {title}", ""] + ([generated, ""] if generated else [])


def markdown_table(headers: Sequence[str], right: Sequence[bool], rows: Iterable[Sequence[str]]) -> list[str]:
    """A markdown table's lines; `right[i]` aligns column i to the right (numbers)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if r else "---" for r in right) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def frame_as_csv(frame: pd.DataFrame) -> str:
    """`frame` as CSV with 6 significant digits and Unix line ends, as every view's `--format csv` writes it."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, float_format="%.6g", lineterminator="\n")
    return buffer.getvalue()
