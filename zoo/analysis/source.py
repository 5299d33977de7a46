"""The thing an analysis looks at: a training run or a model folder, its model, data and protocol.

A run directory (`zoo train`) knows the data it trained on, its protocol and its test-set sizes; a
model folder (`zoo convert`, `zoo pull`) knows only its model, so a new run's defaults stand in (both
from `zoo.training.evaluation_plan`, as a run's own evaluation gets them).
Either way `--data` picks other test sets, synthmix domains or real layouts alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import nn

from ..coic.model import CoICModel
from ..data.mixing import PairSource
from ..errors import ZooError
from ..models.checkpoint import has_random_encoder, load_model_dir, read_config
from ..training.config import TrainConfig
from ..training.evaluation_plan import EvaluationPlan, evaluation_plan


@dataclass
class AnalysedModel:
    """A loaded run or model folder and the settings the analyses default to."""

    path: Path
    model: nn.Module
    backbone: str
    config: str
    plan: EvaluationPlan  # the run's test sets, sizes and protocol (a model folder: a new run's defaults)
    train: TrainConfig | None

    @property
    def data(self) -> str:
        return self.plan.data

    @property
    def protocol(self) -> str:
        return self.plan.protocol

    @property
    def eval_size(self) -> int:
        return self.plan.size

    @property
    def name(self) -> str:
        return self.path.resolve().name

    @property
    def coic(self) -> bool:
        return isinstance(self.model, CoICModel)

    @property
    def random_encoder(self) -> bool:
        """Loaded with `allow_random_encoder`: z comes from an untrained encoder (no encoder.safetensors)."""
        return has_random_encoder(self.model)

    def require_coic(self, analysis: str) -> CoICModel:
        """The CoIC model, or one line saying a baseline has no encoder to analyse."""
        if not isinstance(self.model, CoICModel):
            raise ZooError(f"{self.path}: a baseline run has no encoder or modulation, so `zoo analyze {analysis}` does not apply; pass a CoIC run")
        return self.model

    def sets(self, data: str | None = None, root: Path | None = None, count: int | None = None) -> dict[str, PairSource]:
        """Test sets of `data` (default: the run's), at most `count` images each."""
        sets = self.plan.sets(data, root, count)
        return {name: _spread(pairs, count) for name, pairs in sets.items()}


def load_source(path: str | Path, allow_random_encoder: bool = False) -> AnalysedModel:
    """Load the run or model folder at `path` (eval mode) with its analysis defaults.

    A CoIC folder without `encoder.safetensors` is refused unless `allow_random_encoder` (then
    `AnalysedModel.random_encoder` is true and the command keeps its outputs apart).
    """
    path = Path(path)
    config = read_config(path)
    train = TrainConfig.from_dict(config["train"]) if "train" in config else None
    model = load_model_dir(path, allow_random_encoder=allow_random_encoder)
    return AnalysedModel(
        path=path,
        model=model,
        backbone=str(config["backbone"]),
        config=str(config.get("config", "tiny")),
        plan=evaluation_plan(train),
        train=train,
    )


class _Spread:
    """`count` pairs spread evenly over a set (a Sequence, loaded on demand).

    Evenly spaced rather than the first ones: real test sets are sorted (DDN-Data lists its 14 rain
    types of one background together), so the first few would show one scene.
    """

    def __init__(self, pairs: PairSource, count: int) -> None:
        self.pairs = pairs
        self.indices = np.unique(np.linspace(0, len(pairs) - 1, count).round().astype(int)).tolist()

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return self.pairs[self.indices[index]]


def _spread(pairs: PairSource, count: int | None) -> Sequence[tuple[np.ndarray, np.ndarray]]:
    if count is not None and count < 1:
        raise ZooError(f"--per-set {count} must be at least 1")
    if count is None or count >= len(pairs):
        return pairs
    return _Spread(pairs, count)
