"""Atomic file writes: a crash or kill never leaves a half-written file behind.

Every file the suite writes (checkpoints, configs, metrics, result rows) goes through these helpers:
write to a temporary file in the same folder, flush and fsync, then `os.replace` onto the target.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target` in one step."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write(target: str | os.PathLike[str], write: Callable[[Path], Any]) -> Path:
    """Call `write(tmp_path)` and move the result onto `target` atomically."""
    with atomic_path(target) as tmp:
        write(tmp)
    return Path(target)


def atomic_write_text(target: str | os.PathLike[str], text: str) -> Path:
    return atomic_write(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_write_json(target: str | os.PathLike[str], obj: Any, sort_keys: bool = False) -> Path:
    """JSON, indented, keys in insertion order (tables read in the order results were produced)."""
    return atomic_write_text(target, json.dumps(obj, indent=2, sort_keys=sort_keys) + "\n")
