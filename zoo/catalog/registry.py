"""Backbone registry, shaped like timm's: register a card once, create the backbone by name anywhere.

A backbone is registered with its card (`BackboneSpec`, zoo.catalog.card): named configurations
(`tiny` for CPU work, `paper` for the published model), provenance, recipe, converter, size rule and
pretrained tags. Builders import their backbone module lazily so that one broken architecture never
breaks `import zoo` (a lesson from BasicSR, whose eager imports failed as a whole).
"""

from __future__ import annotations

import difflib
import fnmatch

from ..errors import UnknownNameError
from .card import BackboneSpec

_REGISTRY: dict[str, BackboneSpec] = {}
_UNAVAILABLE: dict[str, str] = {}


def note_unavailable(name: str, reason: str) -> None:
    """Remember a backbone that is not registered here because an optional package is missing."""
    _UNAVAILABLE[name] = reason


def register_backbone(spec: BackboneSpec) -> BackboneSpec:
    """Add the card `spec` to the registry and return it; a name is registered once."""
    if spec.name in _REGISTRY:
        raise ValueError(f"backbone {spec.name!r} is registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def unregister_backbone(name: str) -> BackboneSpec:
    """Remove backbone `name` and return its card: for tests and plugins that register one for a while."""
    if name not in _REGISTRY:
        raise UnknownNameError(f"backbone '{name}' is not registered")
    return _REGISTRY.pop(name)


def find_model(name: str) -> BackboneSpec | None:
    """The card of `name`, or None where none is registered (for callers with a fallback, e.g. recipes)."""
    return _REGISTRY.get(name)


def list_models(pattern: str = "*", family: str | None = None) -> list[str]:
    """Sorted names of registered backbones matching the fnmatch `pattern` (e.g. ``"*former*"``)."""
    names = [n for n in _REGISTRY if fnmatch.fnmatch(n, pattern)]
    if family is not None:
        names = [n for n in names if _REGISTRY[n].family == family]
    return sorted(names)


def model_info(name: str) -> BackboneSpec:
    """The card of backbone `name`; an unknown name raises with the closest known names."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    if name in _UNAVAILABLE:
        raise UnknownNameError(f"backbone '{name}' is not available: {_UNAVAILABLE[name]}")
    close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.4)
    hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(sorted(_REGISTRY))}"
    raise UnknownNameError(f"unknown backbone '{name}'; {hint} (run `zoo models` to list them)")
