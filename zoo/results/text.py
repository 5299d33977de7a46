"""Rich tables as plain text: what `--format table --out FILE` writes, for the boards and the field tables alike."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any


def tables_as_text(tables: Iterable[Any], generated: str | None = None, width: int = 200) -> str:
    """The rich `tables`, printed one after another without colour at `width` columns, under `generated`."""
    from rich.console import Console

    console = Console(record=True, width=width, file=io.StringIO(), color_system=None)
    if generated:
        console.print(generated, highlight=False)
    for table in tables:
        console.print(table)
    return console.export_text()
