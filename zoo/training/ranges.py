"""The allowed range of every numeric training setting, checked before a run starts.

`TrainConfig.validate` (called when a config is resolved, before the trainer builds anything or a
run folder exists) walks `RANGES`; a value outside its range is refused with one line naming the
option as the user gave it (`--ema`, or `--set lr=...` for settings without a flag of their own) and
the range it must lie in. Non-finite numbers (nan, inf) are outside every range.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ZooError

MIN_TILE = 16  # the smallest inference tile (`zoo derain --tile` has the same minimum)

# Settings that have a flag of their own on `zoo train`; the others are set with `--set NAME=VALUE`.
FLAGS = {
    "batch": "--batch", "iters": "--iters", "crop": "--crop", "stage1_iters": "--stage1-iters", "ema": "--ema",
    "eval_every": "--eval-every", "seed": "--seed",
}


@dataclass(frozen=True)
class Range:
    """`ok(value)` says whether a (non-None) value is allowed; `allowed` says so in words."""

    ok: Callable[[Any], bool]
    allowed: str
    optional: bool = False  # None is allowed too (the recipe's or the official choice)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def at_least(low: float) -> Range:
    return Range(lambda v: _finite(v) and v >= low, f"at least {low:g}")


def above(low: float) -> Range:
    return Range(lambda v: _finite(v) and v > low, f"greater than {low:g}")


def each(inner: Range, what: str) -> Range:
    return Range(lambda v: all(inner.ok(x) for x in v), f"a list of {what}")


RANGES: dict[str, Range] = {
    "seed": at_least(0),
    "iters": at_least(1),
    "stage1_iters": at_least(0),
    "batch": at_least(1),
    "crop": at_least(8),
    "lr": above(0),
    "gamma": Range(lambda v: _finite(v) and 0 < v <= 1, "in (0, 1] (the factor of each decay)"),
    "eta_min": at_least(0),
    "milestones": Range(
        lambda v: all(_finite(x) and 0 <= x <= 1 for x in v) and list(v) == sorted(v),
        "ascending fractions of the run in [0, 1]",
    ),
    "periods": each(above(0), "numbers greater than 0 (fractions of the run)"),
    "cycle_floors": each(at_least(0), "learning rates of at least 0"),
    "weight_decay": at_least(0),
    "coic_weight_decay": Range(lambda v: _finite(v) and v >= 0, "at least 0", optional=True),
    "grad_clip": Range(lambda v: _finite(v) and v >= 0, "at least 0 (0 = off)"),
    "contrast_weight": Range(lambda v: _finite(v) and v >= 0, "at least 0 (0 = no contrastive loss)"),
    "n_neg": at_least(1),
    "temperature": above(0),
    "explode_guard": Range(lambda v: _finite(v) and v >= 0, "at least 0 (0 = off)"),
    "momentum": Range(lambda v: _finite(v) and 0 <= v <= 1, "in [0, 1]"),
    "ema": Range(lambda v: _finite(v) and 0 <= v < 1, "in [0, 1) (0 = off)"),
    "ckpt_every": at_least(1),
    "log_every": at_least(1),
    "eval_every": Range(lambda v: _finite(v) and v >= 0, "at least 0 (0 = off)"),
    "synth_count": at_least(1),
    "synth_size": at_least(8),
    "eval_count": at_least(1),
    "eval_size": at_least(MIN_TILE),
    "eval_tile": Range(
        lambda v: _finite(v) and (v == 0 or v >= MIN_TILE),
        f"none (the backbone's official tiling), 0 (whole images) or at least {MIN_TILE}",
        optional=True,
    ),
}


def check_ranges(values: dict[str, Any]) -> None:
    """Refuse the first setting of `values` (a `TrainConfig.as_dict()`) outside its range."""
    for name, rule in RANGES.items():
        value = values.get(name)
        if value is None and (rule.optional or name not in values):
            continue
        if value is None or not rule.ok(value):
            raise ZooError(f"{_option(name, value)} must be {rule.allowed}")


def _option(name: str, value: Any) -> str:
    return f"{FLAGS[name]} {_shown(value)}" if name in FLAGS else f"--set {name}={_shown(value)}"


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)
