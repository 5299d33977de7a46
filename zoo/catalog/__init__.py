"""The catalog: the backbone registry and one card (registration module) per backbone.

Registration is kept apart from the architecture files (which hold architecture only), and each
card's builder imports its architecture lazily, so a broken backbone never breaks the others.
Importing this package registers every card in it; card.py defines what a card holds.
"""

from __future__ import annotations

import importlib
import pkgutil

from .card import BackboneSpec, Converter
from .registry import list_models, model_info, register_backbone, unregister_backbone

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in ("card", "registry", "recipes"):  # recipes.py holds the Recipe type and its rules, not a card
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["BackboneSpec", "Converter", "list_models", "model_info", "register_backbone", "unregister_backbone"]
