"""`TrainConfig`: every setting of a training run, stored in the run's `config.json`.

A run is rebuilt from this alone (`zoo train --resume DIR`), so it holds the resolved values, not
"use the recipe default": unset fields are filled from the backbone's recipe when the run starts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from .errors import ZooError
from .recipes import recipe

TUPLE_FIELDS = ("milestones", "periods", "cycle_floors")


def parse_value(raw: str) -> Any:
    """A `--set` value: numbers first (YAML 1.1 would read `2e-3` as a string), then YAML (lists, bools)."""
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
    config: str = "tiny"
    data: str = "synthmix"
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
    rain_pool: bool | None = None
    per_image_views: bool | None = None
    explode_guard: float | None = None
    momentum: float = 0.999
    bf16: bool = False
    channels_last: bool = False
    ema: float = 0.0
    ckpt_every: int = 50
    log_every: int = 10
    num_workers: int = 0
    synth_count: int = 1000
    synth_size: int = 96
    eval_count: int = 16
    eval_size: int = 128
    eval_tile: int | None = None
    protocol: str = "y-matlab"
    allow_partial: bool = False
    dataset_roots: dict[str, str] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)

    def root_overrides(self) -> dict[str, Path]:
        return {name: Path(path) for name, path in self.dataset_roots.items()}

    def resolved(self) -> TrainConfig:
        """A copy with every unset field taken from the backbone's recipe for this config."""
        base = recipe(self.backbone, self.config)
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

    def validate(self) -> None:
        checks = [
            (self.batch is not None and self.batch >= 1, f"--batch {self.batch} must be at least 1"),
            (self.iters is not None and self.iters >= 1, f"--iters {self.iters} must be at least 1"),
            (self.crop is not None and self.crop >= 8, f"--crop {self.crop} must be at least 8"),
            (self.stage1_iters is None or self.stage1_iters >= 0, f"--stage1-iters {self.stage1_iters} must be >= 0"),
            (self.ckpt_every >= 1, f"ckpt_every {self.ckpt_every} must be at least 1"),
            (self.n_neg is None or self.n_neg >= 1, f"n_neg {self.n_neg} must be at least 1"),
            (0.0 <= self.momentum <= 1.0, f"momentum {self.momentum} must be between 0 and 1"),
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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ZooError(f"unknown training settings {unknown}; known: {', '.join(sorted(known))}")
        data = {k: (tuple(v) if k in TUPLE_FIELDS and v is not None else v) for k, v in data.items()}
        return cls(**data)

    def with_settings(self, assignments: list[str]) -> TrainConfig:
        """Apply `--set key=value` strings; `model.KEY=VALUE` sets a backbone constructor argument."""
        data = self.as_dict()
        model = dict(data.get("model") or {})
        for item in assignments:
            key, sep, raw = item.partition("=")
            if not sep or not key:
                raise ZooError(f"--set '{item}' is not key=value (e.g. --set lr=2e-4 or --set model.channels=16)")
            value = parse_value(raw)
            if key.startswith("model."):
                model[key[len("model.") :]] = value
            elif key in data and key != "model":
                data[key] = value
            else:
                raise ZooError(f"--set {key}: unknown setting; known: {', '.join(sorted(k for k in data if k != 'model'))}")
        data["model"] = model
        return TrainConfig.from_dict(data)
