"""Learning curves: test-set PSNR every `eval_every` training steps (`zoo train --eval-every N`).

Each point scores the exported weights on the run's test sets (the same ones `evaluate_run` uses, at
the official tiling), writes them to TensorBoard (`test/psnr/<set>`, `test/psnr_average`) and to
`curve.json` in the run folder, which `evaluate_run` copies into `metrics.json` and `zoo bench`
into the results store (`curve-*.csv`), where `zoo leaderboard --plot` draws them. Scoring does not
touch the training RNG, so a run with a curve trains exactly as one without.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .._atomic import atomic_write_json
from ..data.mixing import evaluation_sets
from ..evaluation.evaluate import evaluate_set
from ..evaluation.inference import OFFICIAL_TILE

if TYPE_CHECKING:
    from .trainer import Trainer

CURVE_FILE = "curve.json"


def read_curve(run_dir: Path) -> list[dict[str, Any]]:
    """The run's curve points (`step`, `psnr` per test set, `average`), oldest first; [] without one."""
    path = Path(run_dir) / CURVE_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def record_curve_point(trainer: Trainer) -> dict[str, Any]:
    """Score the trainer's exported model on its test sets now and record the point (main process)."""
    cfg = trainer.cfg
    sets = getattr(trainer, "_curve_sets", None)
    if sets is None:
        sets = evaluation_sets(
            cfg.data, Path(cfg.root) if cfg.root else None, seed=0, synth_count=cfg.eval_count, synth_size=cfg.eval_size,
            overrides=cfg.root_overrides(), allow_partial=cfg.allow_partial,
        )
        trainer._curve_sets = sets  # type: ignore[attr-defined]  # built once per process
    model = trainer.export_model()
    was_training = model.training
    rng = torch.get_rng_state()
    tile = OFFICIAL_TILE if cfg.eval_tile is None else (cfg.eval_tile or None)
    try:
        psnr = {name: float(evaluate_set(model, pairs, cfg.protocol, tile=tile)["psnr"]) for name, pairs in sets.items()}
    finally:
        torch.set_rng_state(rng)
        model.train(was_training)
    point = {"step": trainer.step, "psnr": psnr, "average": sum(psnr.values()) / len(psnr)}
    trainer.log.record_eval(trainer.step, psnr)
    # A resumed run may redo steps after its last checkpoint: their points replace the old ones.
    curve = [p for p in read_curve(trainer.run_dir) if p["step"] < trainer.step] + [point]
    atomic_write_json(trainer.run_dir / CURVE_FILE, curve)
    return point
