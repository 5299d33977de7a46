"""Small nn pieces a backbone may use: padding helpers and the markers `coicify` acts on.

The bottom layer of the package: it imports torch only, so any backbone can depend on it. Names
are imported on first use (PEP 562), so the torch-free `patterns` module can be read by catalog
cards without importing torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "ContextPattern": "patterns",
    "ContextPoint": "markers",
    "PlainConv2d": "markers",
    "pad_to_multiple": "padding",
}

if TYPE_CHECKING:
    from .markers import ContextPoint, PlainConv2d
    from .padding import pad_to_multiple
    from .patterns import ContextPattern


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ContextPattern", "ContextPoint", "PlainConv2d", "pad_to_multiple"]
