"""A run's evaluation plan: the test sets it is scored on, their sizes, the tiling and the protocol.

Derived here and nowhere else from the run's `TrainConfig`, so the final evaluation (`evaluate_run`),
the learning curve (`curves`) and the analyses (`zoo.analysis.source`) score the same images the same
way; a change to how a run picks its test sets or tile is one edit. It sits in `training/` because it
reads a `TrainConfig`; the analyses sit above training and import it from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..data.mixing import PairSource, evaluation_sets
from ..evaluation.inference import OFFICIAL_TILE
from .config import TrainConfig


@dataclass(frozen=True)
class EvaluationPlan:
    """How a run is evaluated.

    `data` is a `--data` spec and `root` its dataset folder (`overrides` name other folders per
    dataset); each synthmix domain gives `count` test images of `size` px; `tile` is what
    `evaluate_set` takes (a size, None for whole images, or `OFFICIAL_TILE`); `protocol` is the
    PSNR/SSIM protocol.
    """

    data: str
    root: Path | None
    count: int
    size: int
    tile: int | str | None
    protocol: str
    overrides: dict[str, Path] = field(default_factory=dict)
    allow_partial: bool = False

    def sets(
        self, data: str | None = None, root: Path | None = None, count: int | None = None
    ) -> dict[str, PairSource]:
        """The test sets of `data` under `root`, `count` images per synthmix domain; each defaults to the run's.

        Seed 0 always: every evaluation of every run draws the same synthetic test images.
        """
        return evaluation_sets(
            data or self.data, root or self.root, seed=0, synth_count=count or self.count, synth_size=self.size,
            overrides=self.overrides, allow_partial=self.allow_partial,
        )


def evaluation_plan(cfg: TrainConfig | None) -> EvaluationPlan:
    """The evaluation plan of a run with settings `cfg`.

    A model folder (`zoo convert`, `zoo pull`) has no training settings (`cfg=None`): it gets the
    defaults a new run would have, so its defaults live in `TrainConfig` only.
    """
    if cfg is None:
        cfg = TrainConfig(backbone="")  # only its default evaluation settings are read
    return EvaluationPlan(
        data=cfg.data,
        root=Path(cfg.root) if cfg.root else None,
        count=cfg.eval_count,
        size=cfg.eval_size,
        tile=OFFICIAL_TILE if cfg.eval_tile is None else (cfg.eval_tile or None),  # 0: whole images
        protocol=cfg.protocol,
        overrides=cfg.root_overrides(),
        allow_partial=cfg.allow_partial,
    )
