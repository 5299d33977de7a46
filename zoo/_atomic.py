"""Atomic file writes: a crash or kill never leaves a half-written file behind.

Every file the suite writes (checkpoints, configs, metrics, result rows) goes through these helpers:
write to a temporary file in the same folder, flush and fsync, then `os.replace` onto the target.
A reader therefore sees either the old or the new complete file, never a mixture.

The written file gets mode 0666 minus the process umask, as a plain `open()` would give it (not
`mkstemp`'s 0600, nor that of a writer that makes its own temporary file), so a published run or a
shared results store is readable by whoever the umask allows (0644 under umask 022). Failures the user can act on
become one-line `ZooError`s: a folder that cannot be written, a file where a folder should be, a
full disk (`DiskFullError`, which says how much space the write needed; the temporary file is
removed and the previous file stays in place).
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import DiskFullError, ZooError

_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
_TEMP = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp$")
_UMASK_LOCK = threading.Lock()


def human_bytes(n: float) -> str:
    """`1536` -> `'1.5 KiB'`: sizes in messages."""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _cannot_write(path: Path, err: OSError) -> ZooError:
    """The one-line error for a folder or file the process may not create."""
    if err.errno in _FULL:
        return DiskFullError(f"{path}: no space left on the device; free some space and run the command again")
    if isinstance(err, (FileExistsError, NotADirectoryError)):
        blocker = next((p for p in [path, *path.parents] if p.exists() and not p.is_dir()), path)
        return ZooError(f"{path}: cannot create a folder there because {blocker} is a file; choose another path or move the file")
    reason = err.strerror or type(err).__name__
    return ZooError(f"{path}: cannot write here ({reason}); choose a folder you may write to, or fix its permissions")


def ensure_folder(folder: str | os.PathLike[str]) -> Path:
    """Create `folder` (and its parents) if needed; a file in the way or no permission is a `ZooError`."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ZooError(f"{folder} is a file, not a folder; choose another path or move the file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _cannot_write(folder, err) from None
    return folder


def _create_temp(target: Path) -> Path:
    """A new empty file beside `target`, created as `open()` would create it (0666 minus the umask)."""
    for _ in range(100):
        tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as err:
            raise _cannot_write(target.parent, err) from None
        os.close(fd)
        return tmp
    raise ZooError(f"{target.parent}: could not create a temporary file beside {target.name}; remove stale .*.tmp files there")


def current_umask() -> int:
    """The process umask, read without changing it where Linux shows it (`/proc/self/status`).

    Elsewhere it is read the only portable way, by setting and restoring it, under a lock so that
    two writers of this process never see each other's temporary value.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _flush(tmp: Path) -> None:
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())


def _install(tmp: Path, target: Path) -> None:
    """Move the complete temporary file onto `target` in one step, then make the rename durable."""
    os.replace(tmp, target)
    try:
        fd = os.open(target.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a folder; the rename itself is still atomic
    finally:
        os.close(fd)


def _disk_full(target: Path, tmp: Path, size: int | None) -> DiskFullError:
    written = tmp.stat().st_size if tmp.exists() else 0
    needed = f"about {human_bytes(size)}" if size else f"more than the {human_bytes(written)} written when it filled"
    try:
        free = f", {human_bytes(shutil.disk_usage(target.parent).free)} free"
    except OSError:
        free = ""
    kept = f"the previous {target.name} is kept" if target.exists() else f"no partial {target.name} is left behind"
    return DiskFullError(
        f"{target}: no space left on the device; the write needed {needed}{free} in {target.parent}; "
        f"{kept}: free some space and run the command again"
    )


@contextmanager
def atomic_path(target: str | os.PathLike[str], size: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target` in one step.

    `size` (bytes, an estimate is fine) is what a full disk's error message reports as needed.
    """
    target = Path(target)
    if target.is_dir():
        raise ZooError(f"{target} is a folder; a file cannot be written there: choose a file path")
    ensure_folder(target.parent)
    tmp = _create_temp(target)
    try:
        try:
            yield tmp
            _flush(tmp)
            # Some writers replace the file they are given (safetensors writes its own 0600 temporary
            # file and renames it): set the mode a plain open() would have given, whoever made the file.
            os.chmod(tmp, 0o666 & ~current_umask())
        except OSError as err:
            if err.errno in _FULL:
                raise _disk_full(target, tmp, size) from None
            raise
        try:
            _install(tmp, target)
        except OSError as err:
            raise _cannot_write(target, err) from None
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def atomic_write(target: str | os.PathLike[str], write: Callable[[Path], Any], size: int | None = None) -> Path:
    """Call `write(tmp_path)` and move the result onto `target` atomically."""
    with atomic_path(target, size) as tmp:
        write(tmp)
    return Path(target)


def atomic_write_text(target: str | os.PathLike[str], text: str) -> Path:
    data = text.encode("utf-8")
    return atomic_write(target, lambda tmp: tmp.write_bytes(data), size=len(data))


def atomic_write_json(target: str | os.PathLike[str], obj: Any, sort_keys: bool = False) -> Path:
    """JSON, indented, keys in insertion order (tables read in the order results were produced)."""
    return atomic_write_text(target, json.dumps(obj, indent=2, sort_keys=sort_keys) + "\n")


def remove_stale_temps(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files a killed writer left in `folder` (`.<name>.<8 hex>.tmp`).

    Only for folders one process writes at a time (a run directory being resumed); never for a
    shared results store, where another writer's temporary file may be in use.
    """
    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for path in folder.iterdir():
        if _TEMP.match(path.name) and path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
