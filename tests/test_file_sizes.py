"""No source file under zoo/ grows past 400 lines.

A file that long has usually taken on a second job; splitting it by job keeps each part readable and
its imports honest (issue 23). The limit is checked here so a file crossing it fails the suite at once
instead of being found in the next review.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "zoo"
MAX_LINES = 400


def test_no_source_file_exceeds_the_line_limit() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert files, f"no Python files found under {PACKAGE}"
    counts = {path.relative_to(PACKAGE.parent).as_posix(): len(path.read_text(encoding="utf-8").splitlines()) for path in files}
    offenders = {name: lines for name, lines in counts.items() if lines > MAX_LINES}
    assert not offenders, f"{len(offenders)} file(s) over {MAX_LINES} lines; split them by job: " + ", ".join(
        f"{name} ({lines} lines)" for name, lines in offenders.items()
    )
