"""Reading one CSV file of the results store, refusing a damaged one instead of reading it as other rows.

pandas reads a truncated part as one row short of fields (NaN, silently), a zero-byte file as an
error deep in its parser, and a file of other columns as rows whose values are all missing. Here a
file is text (UTF-8, no NUL bytes), ends with a newline (every writer of the store ends its files
so; a cut file does not), has a header of known columns with the required ones among them, and
every line has as many fields as the header; otherwise `DamagedFile` names it and says why.

`skipping_damaged()` marks a block (a `zoo leaderboard --skip-damaged`, a `zoo bench --resume-cells`)
whose store reads leave damaged files out; the list it yields names each file left out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

_SKIPPING: ContextVar[list[str] | None] = ContextVar("zoo_results_skipping_damaged", default=None)


class DamagedFile(Exception):
    """A store file that cannot be read as the rows it should hold; str() is `PATH: damaged results file (WHY)`."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: damaged results file ({reason})")
        self.path = path
        self.reason = reason


@contextmanager
def skipping_damaged() -> Iterator[list[str]]:
    """Within the block every store read leaves damaged files out; the yielded list gets one line per file."""
    skipped: list[str] = []
    token = _SKIPPING.set(skipped)
    try:
        yield skipped
    finally:
        _SKIPPING.reset(token)


def skipping_list() -> list[str] | None:
    """The list of the innermost `skipping_damaged()` block, or None outside one."""
    return _SKIPPING.get()


def read_checked(path: Path, known: tuple[str, ...], required: tuple[str, ...]) -> pd.DataFrame:
    """The rows of the CSV `path`, or `DamagedFile` saying what is wrong with it."""
    import pandas as pd

    try:
        data = path.read_bytes()
    except OSError as err:
        raise DamagedFile(path, f"unreadable: {err.strerror or type(err).__name__}") from None
    if not data:
        raise DamagedFile(path, "empty, zero bytes")
    if b"\0" in data:
        raise DamagedFile(path, "binary data, not CSV text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DamagedFile(path, "not UTF-8 text") from None
    if not text.endswith("\n"):
        raise DamagedFile(path, "truncated: its last line is incomplete")
    lines = list(csv.reader(io.StringIO(text)))
    header = lines[0] if lines else []
    unknown = [c for c in header if c not in known]
    missing = [c for c in required if c not in header]
    if unknown or missing:
        wrong = (f"unknown columns {unknown[:3]}" if unknown else "") + ("; " if unknown and missing else "")
        wrong += f"missing columns {missing[:3]}" if missing else ""
        raise DamagedFile(path, f"wrong columns: {wrong}")
    for number, line in enumerate(lines[1:], start=2):
        if line and len(line) != len(header):
            raise DamagedFile(path, f"line {number} has {len(line)} fields, the header {len(header)}")
    try:
        return pd.read_csv(io.StringIO(text))
    except (ValueError, pd.errors.ParserError) as err:
        raise DamagedFile(path, f"unreadable CSV: {str(err).splitlines()[0][:80]}") from None
