"""Learning curves: test-set PSNR every `eval_every` training steps (`zoo train --eval-every N`).

Each point scores the exported weights on the run's test sets at the run's tiling (its
`EvaluationPlan`, the one `evaluate_run` follows), writes them to TensorBoard (`test/psnr/<set>`,
`test/psnr_average`) and to `curve.json` in the run folder, which `evaluate_run` copies into
`metrics.json` and `zoo bench` into the results store (`curve-*.csv`), where `zoo leaderboard --plot`
draws them. Scoring does not touch the training RNG, so a run with a curve trains exactly as one without.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._atomic import atomic_write_json
from ..data.mixing import PairSource
from ..evaluation.evaluate import evaluate_set
from ..models.files import CURVE_FILE
from .evaluation_plan import EvaluationPlan
from .logs import TrainLog


def read_curve(run_dir: Path) -> list[dict[str, Any]]:
    """The run's curve points (`step`, `psnr` per test set, `average`), oldest first; [] without one."""
    path = Path(run_dir) / CURVE_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


class CurveRecorder:
    """The learning curve of one run, owned by its `Trainer`: scores the model at a step and records the point.

    The test sets are opened on the first point and kept for the next ones (only the main process
    records, so the other processes never open them).
    """

    def __init__(self, plan: EvaluationPlan, run_dir: Path) -> None:
        self.plan = plan
        self.run_dir = Path(run_dir)
        self._sets: dict[str, PairSource] | None = None

    def record(self, model: nn.Module, step: int, log: TrainLog) -> dict[str, Any]:
        """Score `model` (the exported weights) on the test sets now and record the point at `step`."""
        if self._sets is None:
            self._sets = self.plan.sets()
        was_training = model.training
        rng = torch.get_rng_state()
        try:
            psnr = {
                name: float(evaluate_set(model, pairs, self.plan.protocol, tile=self.plan.tile)["psnr"])
                for name, pairs in self._sets.items()
            }
        finally:
            torch.set_rng_state(rng)
            model.train(was_training)
        point = {"step": step, "psnr": psnr, "average": sum(psnr.values()) / len(psnr)}
        log.record_eval(step, psnr)
        # A resumed run may redo steps after its last checkpoint: their points replace the old ones.
        curve = [p for p in read_curve(self.run_dir) if p["step"] < step] + [point]
        atomic_write_json(self.run_dir / CURVE_FILE, curve)
        return point
