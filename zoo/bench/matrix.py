"""Experiment matrices for `zoo bench`: the YAML schema, its cells, and shards of them.

A matrix is a small YAML file::

    name: synthmix-cpu            # optional; default: the file's stem
    backbones: "*"                # every registered backbone, or a list such as [brn, idt]
    methods: [baseline, coic]
    data: [synthmix]
    seeds: [0, 1, 2]
    config: tiny
    settings:                     # any TrainConfig field (or model.KEY), the same for every cell
      iters: 200
      stage1_iters: 60

Cells are expanded in a fixed order (backbone, then method, data, seed; backbones in the order
listed, or sorted for "*"), so `--shard i/n` (the cells whose 0-based index % n == i - 1) gives every
machine a disjoint part and all n shards together cover the matrix. Settings are typed by the same
parser as `zoo train --set` (`zoo.training.settings`): `lr: 2e-4` is the float 0.0002.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

import yaml

from .. import defaults
from ..catalog import list_models, model_info
from ..errors import ZooError
from ..models.build import check_build
from ..training.config import TrainConfig, parse_assignments
from ..training.runs import default_run_dir

METHODS = ("baseline", "coic")
MATRIX_KEYS = ("name", "description", "backbones", "methods", "data", "seeds", "config", "settings")
AXIS_SETTINGS = ("backbone", "coic", "config", "data", "seed")  # set by the matrix axes, not by `settings`



@dataclass(frozen=True)
class Cell:
    """One run of the matrix; `cfg` is its fully resolved training config."""

    index: int
    backbone: str
    method: str
    data: str
    seed: int
    cfg: TrainConfig

    @property
    def name(self) -> str:
        return default_run_dir(self.cfg, Path()).name

    def run_dir(self, runs_root: Path) -> Path:
        return Path(runs_root) / self.name


@dataclass(frozen=True)
class Matrix:
    name: str
    backbones: tuple[str, ...]
    methods: tuple[str, ...]
    data: tuple[str, ...]
    seeds: tuple[int, ...]
    config: str = defaults.CONFIG
    settings: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def cell_config(self, backbone: str, method: str, data: str, seed: int) -> TrainConfig:
        """The resolved config of one cell: the axes, then `settings` typed by the one settings parser."""
        base = TrainConfig(backbone=backbone, coic=method == "coic", config=self.config, data=data, seed=seed)
        return base.with_settings(self.settings, where=f"matrix '{self.name}' settings:").resolved()

    def cells(self) -> list[Cell]:
        """Every cell, in the fixed order backbone, method, data, seed."""
        return [
            Cell(index, backbone, method, data, seed, self.cell_config(backbone, method, data, seed))
            for index, (backbone, method, data, seed) in enumerate(product(self.backbones, self.methods, self.data, self.seeds))
        ]


def load_matrix(path: str | Path) -> Matrix:
    """Read and check a matrix YAML; every problem is a `ZooError` naming the file and the key."""
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"{path}: no such matrix file (see benchmarks/matrices/ for examples)")
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ZooError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(spec, dict):
        raise ZooError(f"{path}: a matrix is a mapping with keys {', '.join(MATRIX_KEYS)}")
    return matrix_from_dict(spec, name=path.stem, where=str(path))


def matrix_from_dict(spec: dict[str, Any], name: str = "matrix", where: str = "matrix") -> Matrix:
    """Check a parsed matrix and expand its patterns; every cell is resolved, so bad settings fail now."""
    unknown = sorted(set(spec) - set(MATRIX_KEYS))
    if unknown:
        raise ZooError(f"{where}: unknown keys {unknown}; a matrix has {', '.join(MATRIX_KEYS)}")
    for key in ("backbones", "methods", "data", "seeds"):
        if key not in spec or spec[key] in (None, [], ""):
            raise ZooError(f"{where}: '{key}' is missing or empty")
    backbones: list[str] = []
    for item in _as_list(spec["backbones"]):
        item = str(item)
        if any(ch in item for ch in "*?["):
            matched = list_models(item)
            if not matched:
                raise ZooError(f"{where}: backbones pattern '{item}' matches no registered backbone; known: {', '.join(list_models())}")
            backbones += matched
        else:
            backbones.append(model_info(item).name)  # an unknown name raises with the closest known ones
    methods = [str(m) for m in _as_list(spec["methods"])]
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise ZooError(f"{where}: unknown methods {bad}; use {' and/or '.join(METHODS)}")
    try:
        seeds = [int(s) for s in _as_list(spec["seeds"])]
    except (TypeError, ValueError):
        raise ZooError(f"{where}: seeds must be integers, got {spec['seeds']!r}") from None
    settings = spec.get("settings") or {}
    if isinstance(settings, list):  # ["iters=200", ...], as `zoo train --set`
        settings = parse_assignments(settings, where)
    if not isinstance(settings, dict):
        raise ZooError(f"{where}: settings must map TrainConfig fields to values (e.g. iters: 200)")
    clash = sorted(set(settings) & set(AXIS_SETTINGS))
    if clash:
        raise ZooError(f"{where}: settings {clash} are set by the matrix axes (backbones, methods, config, data, seeds)")
    matrix = Matrix(
        name=str(spec.get("name") or name),
        backbones=tuple(_unique(backbones)),
        methods=tuple(_unique(methods)),
        data=tuple(_unique(str(d) for d in _as_list(spec["data"]))),
        seeds=tuple(_unique(seeds)),
        config=str(spec.get("config") or defaults.CONFIG),
        settings=dict(settings),
        description=str(spec.get("description") or ""),
    )
    cells = matrix.cells()  # resolve every cell now: a bad setting fails before any training starts
    for backbone in matrix.backbones:
        overrides = next(cell.cfg.model for cell in cells if cell.backbone == backbone)
        if overrides:
            check_build(backbone, matrix.config, **overrides)
    return matrix


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _unique(items: Iterable[Any]) -> list[Any]:
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """'i/n' (1-based i) -> (i, n); None -> None."""
    if text is None:
        return None
    left, sep, right = text.partition("/")
    try:
        index, count = int(left), int(right)
    except ValueError:
        index, count = 0, 0
    if not sep or count < 1 or not 1 <= index <= count:
        raise ZooError(f"--shard '{text}' is not i/n with 1 <= i <= n (e.g. --shard 1/4 ... --shard 4/4)")
    return index, count


def shard_cells(cells: list[Cell], shard: tuple[int, int] | None) -> list[Cell]:
    """The cells of shard i of n: those whose matrix index % n == i - 1."""
    if shard is None:
        return list(cells)
    index, count = shard
    return [cell for cell in cells if cell.index % count == index - 1]
