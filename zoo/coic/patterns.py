"""CoIC's z attached from outside: the `ContextPattern`s of a model its code cannot mark.

`coicify` gives every module matched by a pattern (fnmatch over `named_modules()` names) a
`ModulatedContextPoint` child named `coic_point` and a forward pre-hook that passes the module's
first input through it, so z is added exactly where a `ContextPoint` would add it.

The original state-dict keys are untouched (the point only adds `<module>.coic_point.embed.*`), and
with no z set the hook hands the input back unchanged: the model then computes the plain one bit for
bit. The hook is a module-level function reading the point from its module, so `copy.deepcopy` (EMA
copies) keeps each copied hook paired with its copied point.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from typing import Any

from torch import Tensor, nn

from ..layers.patterns import ContextPattern

POINT_ATTR = "coic_point"
_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


def input_channels(module: nn.Module) -> int:
    """The number of input channels of `module`: from conv/linear/norm attributes, else its first 1-D parameter."""
    for attr in ("in_channels", "in_features"):
        value = getattr(module, attr, None)
        if isinstance(value, int):
            return value
    shape = getattr(module, "normalized_shape", None)
    if shape:
        return int(shape if isinstance(shape, int) else shape[-1])
    first = next(module.parameters(), None)
    if first is not None and first.dim() == 1:
        return int(first.shape[0])
    raise ValueError(f"cannot tell the input channels of {type(module).__name__}; point the pattern at a norm, conv or linear")


def _point_pre_hook(module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
    if not args or not isinstance(args[0], Tensor):
        raise TypeError(f"{type(module).__name__}: a context point needs the features as first positional input")
    return (getattr(module, POINT_ATTR)(args[0]), *args[1:])


def attach_context_points(
    model: nn.Module, patterns: Sequence[ContextPattern], make_point: Callable[[int, ContextPattern], nn.Module]
) -> list[nn.Module]:
    """Put `make_point(input channels, pattern)` in front of every module of `model` matched by `patterns`.

    coicify passes a maker of `ModulatedContextPoint`s (this module knows nothing of modulation, so
    the two never import each other). A module matched by several patterns gets one point (the first
    pattern's settings). Containers (Sequential, ModuleList, ModuleDict) are refused: their forward
    would run the added child too. Patterns that match nothing at all are an error, so a renamed
    module never silently drops CoIC. Returns the points.
    """
    if not patterns:
        return []
    matched: list[tuple[str, nn.Module, ContextPattern]] = []
    seen: set[int] = set()
    for name, module in model.named_modules():
        pattern = next((p for p in patterns if fnmatch.fnmatchcase(name, p.pattern)), None)
        if pattern is None or id(module) in seen:
            continue
        if isinstance(module, _CONTAINERS):
            raise ValueError(f"context pattern '{pattern.pattern}' matches container '{name}'; point it at a norm, conv or linear")
        seen.add(id(module))
        matched.append((name, module, pattern))
    if not matched:
        wanted = ", ".join(p.pattern for p in patterns)
        raise ValueError(f"context patterns {wanted} match no module of {type(model).__name__}")
    points = []
    for _, module, pattern in matched:
        point = make_point(input_channels(module), pattern)
        point.train(module.training)
        module.add_module(POINT_ATTR, point)
        module.register_forward_pre_hook(_point_pre_hook)
        points.append(point)
    return points
