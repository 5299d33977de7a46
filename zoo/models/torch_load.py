"""Why `torch.load(..., weights_only=True)` refused a file, in one line a user can act on.

coic-zoo never unpickles code: every `.pth`/`.pt` file is read with `weights_only=True`, which
refuses a pickled class or function. PyTorch says so in a long multi-line text whose wording
changes between versions (`Unsupported global: GLOBAL x.Y was not an allowed global`,
`Trying to load unsupported GLOBAL posix.system whose module posix is blocked`, `Trying to call
reduce for unrecognized function ...`); `pickled_code` finds the refused name in any of them,
case-insensitively, and `short_reason` gives other errors' first words without cutting one in half.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import CheckpointError

_REFUSED = (
    re.compile(r"unsupported global:?\s*(?:global\s+)?([\w.]+)", re.IGNORECASE),
    re.compile(r"reduce for unrecognized function\s+<?(?:function|built-in function|class)?\s*'?([\w.]+)", re.IGNORECASE),
    re.compile(r"can only (?:create new object|build) .*? but got <class '([\w.]+)'>", re.IGNORECASE),
)


def pickled_code(err: BaseException) -> str | None:
    """The class or function a weights-only load refused, if that is why `err` was raised; else None."""
    text = str(err)
    for pattern in _REFUSED:
        found = pattern.search(text)
        if found:
            return found.group(1).rstrip(".")
    return None


def pickled_code_message(path: object, name: str, advice: str) -> str:
    """`FILE holds pickled code (class X); coic-zoo loads only tensors: ADVICE`."""
    return f"{path} holds pickled code (class {name}); coic-zoo loads only tensors: {advice}"


def short_reason(err: BaseException, limit: int = 100) -> str:
    """The first line of `err` (its type when empty), cut at a word boundary to about `limit` characters."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    text = re.sub(r"\x1b\[[0-9;]*m", "", lines[0]) if lines else type(err).__name__
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:")
    return f"{cut} …"


def load_tensors_only(path: Path, advice: str) -> Any:
    """`torch.load(path, weights_only=True)` on the CPU. A file that holds pickled code raises
    `CheckpointError` naming the refused class and `advice` (how to save the file instead); any other
    failure propagates for the caller to word, since only it knows what the file should have been."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for corrupt or foreign files
        refused = pickled_code(err)
        if refused is not None:
            raise CheckpointError(pickled_code_message(path, refused, advice)) from None
        raise
