"""`TrainConfig`: every setting of a training run, stored in the run's `config.json`.

A run is rebuilt from this alone (`zoo train --resume DIR`), so it holds the resolved values, not
"use the recipe default": unset fields are filled from the backbone's recipe when the run starts.
`batch` is the effective (global) batch of one optimiser step, however it is split over processes
and accumulation steps; how this process executes the run (device, workers, accumulation) is a
`zoo.training.runtime.Runtime`, not part of the config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from .. import defaults
from ..coic.contrastive import NEGATIVES
from ..errors import ZooError
from .ranges import check_ranges
from .recipes import recipe
from .runtime import PRECISIONS
from .settings import coerce_setting

TUPLE_FIELDS = ("milestones", "periods", "cycle_floors")


@dataclass(frozen=True)
class _LegacySettings:
    """Settings older runs and matrices may name: `bf16` (now `precision`), `num_workers` (now `--workers`)."""

    bf16: bool = False
    num_workers: int = 0


def _upgrade(data: dict[str, Any], where: str | None = None) -> dict[str, Any]:
    """`bf16: true` -> `precision: bf16`; `num_workers` dropped (a runtime choice, see `Runtime.workers`)."""
    data = dict(data)
    if "bf16" in data:
        raw = data.pop("bf16")
        bf16 = coerce_setting(_LegacySettings, "bf16", raw, where) if where is not None else bool(raw)
        if bf16:
            data["precision"] = "bf16"
    if "num_workers" in data:
        raw = data.pop("num_workers")
        if where is not None:
            coerce_setting(_LegacySettings, "num_workers", raw, where)
    return data


def parse_value(raw: str) -> Any:
    """A value with no declared type (`model.KEY=...`): numbers first (YAML 1.1 would read `2e-3` as
    a string), then YAML (lists, bools)."""
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
    if isinstance(value, list):
        return [parse_value(v) if isinstance(v, str) else v for v in value]
    return value


@dataclass(frozen=True)
class TrainConfig:
    backbone: str
    coic: bool = True
    config: str = defaults.CONFIG  # the backbone configuration name (tiny | paper): `--config`, the results column `config`
    data: str = defaults.DATA
    root: str | None = None
    seed: int = 0
    iters: int | None = None
    stage1_iters: int | None = None
    batch: int | None = None
    crop: int | None = None
    lr: float | None = None
    loss: str | None = None
    optimizer: str | None = None
    schedule: str | None = None
    milestones: tuple[float, ...] | None = None
    gamma: float | None = None
    eta_min: float | None = None
    periods: tuple[float, ...] | None = None
    cycle_floors: tuple[float, ...] | None = None
    weight_decay: float | None = None
    coic_weight_decay: float | None = None
    grad_clip: float | None = None
    contrast_weight: float | None = None
    n_neg: int | None = None
    temperature: float | None = None
    negatives: str = "both"
    rain_pool: bool | None = None
    per_image_views: bool | None = None
    explode_guard: float | None = None
    momentum: float = 0.999
    precision: str = "fp32"
    channels_last: bool = False
    ema: float = 0.0
    ckpt_every: int = 50
    log_every: int = 10
    eval_every: int = 0  # test-set PSNR every N steps, a learning curve (`training.curves`); 0 = off
    synth_count: int = 1000
    synth_size: int = 96
    eval_count: int = defaults.EVAL_COUNT
    eval_size: int = defaults.EVAL_SIZE
    eval_tile: int | None = None
    protocol: str = defaults.PROTOCOL
    allow_partial: bool = False
    dataset_roots: dict[str, str] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    init: str | None = None  # a checkpoint spandrel reads, loaded into the backbone before step 0

    def root_overrides(self) -> dict[str, Path]:
        return {name: Path(path) for name, path in self.dataset_roots.items()}

    def resolved(self) -> TrainConfig:
        """A copy with every unset field taken from the backbone's recipe for this config."""
        base = recipe(self.backbone, self.config, with_spa=self._with_spa())
        changes: dict[str, Any] = {}
        for name in ("batch", "crop", "iters", "lr", "loss", "optimizer", "schedule", "milestones", "gamma",
                     "eta_min", "periods", "cycle_floors", "weight_decay", "coic_weight_decay", "grad_clip",
                     "contrast_weight", "n_neg", "temperature", "rain_pool", "per_image_views", "explode_guard"):
            if getattr(self, name) is None:
                changes[name] = getattr(base, name)
        cfg = replace(self, **changes)
        if cfg.stage1_iters is None:
            cfg = replace(cfg, stage1_iters=int(round(cfg.iters * base.stage1_fraction)))  # type: ignore[operator]
        cfg.validate()
        return cfg

    def _with_spa(self) -> bool:
        """Whether the paper recipe's epoch-based schedule must follow SPA's doubled epochs (`recipes.SPA_PAPER`)."""
        if self.config != "paper":
            return False
        from ..data.spec import REAL_WORLD, parse_data

        return any(name in REAL_WORLD and weight is None for name, weight in parse_data(self.data))

    def validate(self) -> None:
        """Every setting in its range (`zoo.training.ranges`) and every name known, before any work starts."""
        check_ranges(self.as_dict())
        checks = [
            (self.negatives in NEGATIVES, f"--negatives '{self.negatives}' is not one of: {', '.join(NEGATIVES)} (the contrastive negatives to keep)"),
            (self.precision in PRECISIONS, f"--precision {self.precision}: unknown; use {', '.join(PRECISIONS)}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ZooError(message)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in TUPLE_FIELDS:
            if data[key] is not None:
                data[key] = list(data[key])
        return data

    def differences(self, other: TrainConfig, ignore: tuple[str, ...] = ()) -> list[str]:
        """The settings (field names, in field order) whose values differ between `self` and `other`.

        One comparison for every place that must tell whether a run folder holds the run asked for
        (`zoo train --resume`, a `zoo bench` cell); each caller words its own message. `ignore`
        names settings the caller allows to differ (`--resume` may change `iters`).
        """
        names = [f.name for f in fields(self) if f.name not in ignore]
        return [name for name in names if getattr(self, name) != getattr(other, name)]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        data = _upgrade(data)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ZooError(f"unknown training settings {unknown}; known: {', '.join(sorted(known))}")
        data = {k: (tuple(v) if k in TUPLE_FIELDS and v is not None else v) for k, v in data.items()}
        return cls(**data)

    def with_settings(self, settings: Mapping[str, Any] | list[str], where: str = "--set") -> TrainConfig:
        """Apply settings given as `key=value` strings (`--set`) or a mapping (a matrix's `settings:`).

        Every value is converted to the type of its `TrainConfig` field by one parser
        (`zoo.training.settings`), so `lr: 2e-4` in YAML and `--set lr=2e-4` both give the float
        0.0002 and `lr=fast` is refused naming the key. `model.KEY` sets a backbone constructor argument.
        """
        items = _upgrade(parse_assignments(settings, where) if isinstance(settings, list) else dict(settings), where)
        data = self.as_dict()
        model = dict(data.get("model") or {})
        known = sorted(k for k in data if k != "model")
        for key, value in items.items():
            if key.startswith("model."):
                model[key[len("model.") :]] = parse_value(value) if isinstance(value, str) else value
            elif key == "model":
                if not isinstance(value, Mapping):
                    raise ZooError(f"{where} model: expected a mapping of backbone arguments, got {value!r}")
                model.update(value)
            elif key in data:
                data[key] = coerce_setting(self.__class__, key, value, where)
            else:
                raise ZooError(f"{where} {key}: unknown training setting; known: {', '.join(known)}")
        data["model"] = model
        return TrainConfig.from_dict(data)


def parse_assignments(items: list[str], where: str = "--set") -> dict[str, str]:
    """`["lr=2e-4", "model.channels=16"]` -> `{"lr": "2e-4", ...}`; the values stay strings, typed later."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, raw = str(item).partition("=")
        if not sep or not key.strip():
            raise ZooError(f"{where} '{item}' is not key=value (e.g. lr=2e-4 or model.channels=16)")
        out[key.strip()] = raw.strip()
    return out
