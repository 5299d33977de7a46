"""Small nn pieces a backbone may use: padding helpers and the markers `coicify` acts on.

The bottom layer of the package: it imports torch only, so any backbone can depend on it.
"""

from .markers import ContextPoint, PlainConv2d
from .padding import pad_to_multiple

__all__ = ["ContextPoint", "PlainConv2d", "pad_to_multiple"]
