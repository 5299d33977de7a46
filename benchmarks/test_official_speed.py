"""Our CoIC BRN train step vs the official one (paper config, batch 4, 64x64, fp32), same inputs.

Target: ours <= 0.8x the official time. The official step is built from a checkout at run time
(see `official_brn.py`); without one this benchmark skips.
Run: `pytest benchmarks/test_official_speed.py --benchmark-group-by=group`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from benchmarks import official_brn
from zoo.data.mixing import MixedPatches, training_sources
from zoo.training.config import TrainConfig
from zoo.training.trainer import Trainer

pytestmark = pytest.mark.skipif(not official_brn.available(), reason=f"no official CoIC checkout at {official_brn.CHECKOUT}")


@pytest.fixture(scope="module")
def batch() -> dict[str, torch.Tensor]:
    data = MixedPatches(training_sources("synthmix", synth_count=16), 64, contrastive=True)
    samples = [data[k] for k in range(4)]
    return {key: torch.stack([s[key] for s in samples]) for key in samples[0]}


def test_ours(benchmark, batch: dict[str, torch.Tensor], tmp_path: Path) -> None:
    trainer = Trainer(TrainConfig("brn", config="paper", iters=1000, stage1_iters=0, batch=4, crop=64), tmp_path / "run")
    trainer.step = 1  # stage 2: modulation, encoder and contrastive loss on
    benchmark.group = "CoIC BRN train step, paper config, batch 4, 64x64"
    benchmark.pedantic(trainer.train_step, args=(batch,), rounds=6, warmup_rounds=1)


def test_official(benchmark, batch: dict[str, torch.Tensor]) -> None:
    step = official_brn.official_step(batch)
    benchmark.group = "CoIC BRN train step, paper config, batch 4, 64x64"
    benchmark.pedantic(step, rounds=6, warmup_rounds=1)
