"""A full disk for tests: writes to the atomic writer's temporary files fail with ENOSPC part-way.

`full_disk(monkeypatch, after=N)` replaces `open` (the builtin and `io.open`, which `Path.open`,
PIL, matplotlib and the suite's own writers all go through) so that a file opened for writing whose
name is a temporary file of `zoo._atomic` (`.NAME.xxxxxxxx.tmp`) accepts N bytes and then raises
`OSError(ENOSPC)`, as a real full disk does. Torch's and safetensors' own C++ writers never see
such a file because the suite serialises in memory and writes the bytes with Python; should one of
them write a temporary file directly, it would bypass this and the test would see no error.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import re
from typing import Any

import pytest

TEMP = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp$")


class _FillingFile:
    """A file object that passes writes through until `room` bytes are used, then fails with ENOSPC."""

    def __init__(self, handle: Any, room: int) -> None:
        self._handle = handle
        self._room = room

    def write(self, data: Any) -> int:
        size = len(memoryview(data).cast("B")) if not isinstance(data, str) else len(data.encode("utf-8"))
        if size > self._room:
            if self._room > 0:
                self._handle.write(memoryview(data).cast("B")[: self._room] if not isinstance(data, str) else data[: self._room])
                self._room = 0
            self._handle.flush()
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room -= size
        return self._handle.write(data)

    def __enter__(self) -> _FillingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()

    def __iter__(self) -> Any:
        return iter(self._handle)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


def full_disk(monkeypatch: pytest.MonkeyPatch, after: int = 64) -> None:
    """From now on (until the monkeypatch is undone) every temporary file of the atomic writer fills after `after` bytes."""
    real_open = io.open

    def filling_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(file, mode, *args, **kwargs)
        name = os.path.basename(os.fsdecode(file)) if isinstance(file, (str, bytes, os.PathLike)) else ""
        if any(flag in mode for flag in "wax") and TEMP.match(name):
            return _FillingFile(handle, after)
        return handle

    monkeypatch.setattr(builtins, "open", filling_open)
    monkeypatch.setattr(io, "open", filling_open)
