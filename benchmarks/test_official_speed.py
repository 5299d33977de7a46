"""Our CoIC BRN train step vs the official one (paper config, batch 4, 64x64, fp32), same inputs.

Target: ours <= 0.8x the official time. The official step is built from a checkout at run time
(see `official_brn.py`); without one this benchmark skips. Both steps run in alternation, round by
round (`paired.py`); the ratio is printed at the end of the run.
Run: `pytest benchmarks/test_official_speed.py --benchmark-group-by=group`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from benchmarks import official_brn
from benchmarks.paired import time_pair
from zoo.data.mixing import MixedPatches, training_sources
from zoo.training.config import TrainConfig
from zoo.training.trainer import Trainer

pytestmark = pytest.mark.skipif(
    not official_brn.available(), reason=f"no official CoIC checkout at {official_brn.CHECKOUT}"
)


@pytest.fixture(scope="module")
def batch() -> dict[str, torch.Tensor]:
    data = MixedPatches(training_sources("synthmix", synth_count=16), 64, contrastive=True)
    samples = [data[k] for k in range(4)]
    return {key: torch.stack([s[key] for s in samples]) for key in samples[0]}


def test_ours_vs_official(benchmark, batch: dict[str, torch.Tensor], tmp_path: Path) -> None:
    trainer = Trainer(
        TrainConfig("brn", config="paper", iters=1000, stage1_iters=0, batch=4, crop=64), tmp_path / "run"
    )
    trainer.step = 1  # stage 2: modulation, encoder and contrastive loss on
    official = official_brn.official_step(batch)
    time_pair(
        benchmark,
        "CoIC BRN train step, paper config, batch 4, 64x64",
        ("official", official),
        ("ours", lambda: trainer.train_step(batch)),
        rounds=6,
        warmup=1,
        target=0.8,
    )
