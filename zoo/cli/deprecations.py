"""Old spellings of options and arguments: they keep working for one release, each with one line on
stderr naming the new spelling (the README's CLI vocabulary table lists them)."""

from __future__ import annotations

from rich.console import Console

_notes = Console(stderr=True)


def deprecated(old: str, new: str) -> None:
    """Say once, on stderr, that `old` still works but `new` is the spelling to use."""
    _notes.print(
        f"note: {old} is deprecated and goes in the next release; use {new}", style="yellow", markup=False, highlight=False,
    )
