"""Backbone registry, shaped like timm's: register a builder once, create it by name anywhere.

A backbone is registered with its named configurations (`tiny` for CPU work, `paper` for the
published model), its family, the paper it comes from and the parameter count that paper's official
code builds. Builders import their backbone module lazily so that one broken architecture never
breaks `import zoo` (a lesson from BasicSR, whose eager imports failed as a whole).
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import UnknownNameError

if TYPE_CHECKING:  # torch is imported only when a backbone is built: `zoo models` never needs it
    from torch import nn

Builder = Callable[..., "nn.Module"]

CONFIG_NAMES = ("tiny", "paper")
SOURCES = ("zoo", "spandrel")


@dataclass(frozen=True)
class BackboneSpec:
    """Everything the suite knows about one backbone, apart from its weights."""

    name: str
    builder: Builder
    family: str
    paper: str
    configs: dict[str, dict[str, Any]]
    pad_multiple: int = 1
    min_size: int = 1
    params: dict[str, int] = field(default_factory=dict)
    paper_params: int | None = None
    paper_params_source: str = ""
    coic_params_note: str = ""
    test_overrides: dict[str, Any] = field(default_factory=dict)
    test_tile: int = 512  # official test_model.py: --tile 512 --tile_overlap 0 (IDT: 128 tiles)
    test_overlap: int = 0
    source: str = "zoo"
    license: str = "unknown (no licence file)"
    code: str = ""
    context_points: tuple[Any, ...] = ()
    notes: str = ""

    def config(self, name: str) -> dict[str, Any]:
        """The keyword arguments of config `name`; a wrong name lists the known ones."""
        if name not in self.configs:
            raise UnknownNameError(
                f"backbone '{self.name}' has no config '{name}'; choose one of: {', '.join(self.configs)}"
            )
        return dict(self.configs[name])

    def build(self, config: str = "tiny", **overrides: Any) -> nn.Module:
        """Build the plain backbone of config `config`, with keyword `overrides` on top."""
        kwargs = self.config(config)
        kwargs.update({key: value for key, value in overrides.items() if value is not None})
        return self.builder(**kwargs)

    def num_params(self, config: str) -> int:
        """Parameters of the plain backbone of `config`: the count recorded in its card (checked
        against a real build by the tests), else counted by building it."""
        return self.params[config] if config in self.params else self.count_params(config)

    def count_params(self, config: str) -> int:
        """Parameters of the plain backbone, counted by building it without allocating memory (meta device)."""
        import torch

        with torch.device("meta"):
            model = self.build(config)
        return sum(p.numel() for p in model.parameters())


_REGISTRY: dict[str, BackboneSpec] = {}
_UNAVAILABLE: dict[str, str] = {}


def note_unavailable(name: str, reason: str) -> None:
    """Remember a backbone that is not registered here because an optional package is missing."""
    _UNAVAILABLE[name] = reason


def register_backbone(
    name: str,
    *,
    family: str,
    paper: str,
    configs: dict[str, dict[str, Any]],
    pad_multiple: int = 1,
    min_size: int = 1,
    params: dict[str, int] | None = None,
    paper_params: int | None = None,
    paper_params_source: str = "",
    coic_params_note: str = "",
    test_overrides: dict[str, Any] | None = None,
    test_tile: int = 512,
    test_overlap: int = 0,
    source: str = "zoo",
    license: str = "unknown (no licence file)",
    code: str = "",
    context_points: tuple[Any, ...] = (),
    notes: str = "",
) -> Callable[[Builder], Builder]:
    """Decorator: register `builder(**config) -> nn.Module` under `name`.

    `configs` must hold at least `tiny` and `paper`. `params` records each config's parameter count
    (so listing backbones builds nothing). `paper_params` is the parameter count of the plain backbone
    as the official code builds it, with `paper_params_source` saying where it comes from.
    `test_tile`/`test_overlap` are the official evaluation's tiling (images whose smaller side exceeds
    the tile are cut into tiles). `source` says whose code builds it (`zoo` or `spandrel`), `license`
    the licence of the architecture's upstream code and `code` where that code lives.
    `context_points` are the `ContextPattern`s where coicify lets z into a model it cannot mark
    itself; `notes` are quirks `zoo info` shows.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    if family not in ("cnn", "transformer"):
        raise ValueError(f"family must be 'cnn' or 'transformer', got {family!r}")
    missing = [c for c in CONFIG_NAMES if c not in configs]
    if missing:
        raise ValueError(f"backbone {name!r} lacks configs {missing}")

    def decorate(builder: Builder) -> Builder:
        if name in _REGISTRY:
            raise ValueError(f"backbone {name!r} is registered twice")
        _REGISTRY[name] = BackboneSpec(
            name=name,
            builder=builder,
            family=family,
            paper=paper,
            configs=configs,
            pad_multiple=pad_multiple,
            min_size=min_size,
            params=dict(params or {}),
            paper_params=paper_params,
            paper_params_source=paper_params_source,
            coic_params_note=coic_params_note,
            test_overrides=dict(test_overrides or {}),
            test_tile=test_tile,
            test_overlap=test_overlap,
            source=source,
            license=license,
            code=code,
            context_points=tuple(context_points),
            notes=notes,
        )
        return builder

    return decorate


def list_models(pattern: str = "*", family: str | None = None) -> list[str]:
    """Sorted names of registered backbones matching the fnmatch `pattern` (e.g. ``"*former*"``)."""
    names = [n for n in _REGISTRY if fnmatch.fnmatch(n, pattern)]
    if family is not None:
        names = [n for n in names if _REGISTRY[n].family == family]
    return sorted(names)


def model_info(name: str) -> BackboneSpec:
    """The spec of backbone `name`; an unknown name raises with the closest known names."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    if name in _UNAVAILABLE:
        raise UnknownNameError(f"backbone '{name}' is not available: {_UNAVAILABLE[name]}")
    close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.4)
    hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(sorted(_REGISTRY))}"
    raise UnknownNameError(f"unknown backbone '{name}'; {hint} (run `zoo models` to list them)")
