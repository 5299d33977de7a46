"""Where z enters a model whose code we cannot mark: `ContextPattern`, the outside twin of `ContextPoint`.

Our backbones place a `ContextPoint` in their code where keys and values are formed. A third-party
model (spandrel's architectures) cannot be edited, so its catalog card lists `ContextPattern`s
instead: fnmatch patterns over `named_modules()` names, read by `coicify` (see zoo.coic.patterns).
A builder hands its patterns to `coicify` by storing them on the model as `PATTERNS_ATTR`.

This module imports no torch: catalog cards hold patterns, and listing the catalog stays light.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PATTERNS_ATTR = "coic_context_points"  # a model's own ContextPatterns, read by coicify


@dataclass(frozen=True)
class ContextPattern:
    """Where z enters: the input of every module whose name matches `pattern`.

    `channel_dim` is the axis of that input holding the channels (1 for N x C x H x W maps, -1 for
    tokens laid out N x L x C or N x H x W x C); `mode` is ContextPoint's ("add" or "mean").
    """

    pattern: str
    channel_dim: int = 1
    mode: Literal["add", "mean"] = "add"

    def describe(self) -> str:
        layout = "N x C x H x W" if self.channel_dim == 1 else "tokens, channels last"
        return f"input of modules matching '{self.pattern}' ({layout}, {self.mode})"
