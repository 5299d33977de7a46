"""The built-in backbones' registrations, one small module each.

Registration is kept apart from the architecture files (which hold architecture only), and each
builder imports its architecture lazily, so a broken backbone never breaks the others. Every module
in this package is imported on first use of the registry.
"""

from __future__ import annotations

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
