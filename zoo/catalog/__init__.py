"""The catalog: the backbone registry and one card (registration module) per backbone.

Registration is kept apart from the architecture files (which hold architecture only), and each
card's builder imports its architecture lazily, so a broken backbone never breaks the others.
Importing this package registers every card in it.
"""

from __future__ import annotations

import importlib
import pkgutil

from .registry import BackboneSpec, list_models, model_info, register_backbone

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in ("registry", "recipes"):  # recipes.py is data, not a backbone card
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["BackboneSpec", "list_models", "model_info", "register_backbone"]
