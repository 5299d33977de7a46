"""synthmix generation speed, and one tiny-BRN train step: baseline vs CoIC vs CoIC with bf16 + channels_last.

Targets: synthmix >= 300 samples/s at 128x128 on 2 cores. The train-step group shows what CoIC's stage 2
costs over the baseline and what bf16 autocast with channels_last buys back.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from zoo.data.mixing import MixedPatches, training_sources
from zoo.data.synth import TRAIN_DOMAINS, synth_pair
from zoo.training.config import TrainConfig
from zoo.training.trainer import Trainer


def _generate(count: int) -> None:
    for index in range(count):
        synth_pair(TRAIN_DOMAINS[index % len(TRAIN_DOMAINS)], index, 0, "train", (128, 128))


@pytest.mark.benchmark(group="synthmix 128x128, 70 samples")
def test_synthmix_samples(benchmark) -> None:
    benchmark.pedantic(_generate, args=(70,), rounds=5, warmup_rounds=1)
    benchmark.extra_info["samples_per_s"] = 70 / benchmark.stats.stats.median


@pytest.mark.parametrize(
    "variant",
    [
        {"coic": False},
        {"coic": True},
        {"coic": True, "precision": "bf16", "channels_last": True},
    ],
    ids=["baseline", "coic", "coic-bf16-channels_last"],
)
def test_train_step(benchmark, tmp_path: Path, variant: dict) -> None:
    cfg = TrainConfig("brn", iters=1000, stage1_iters=0, **variant)
    trainer = Trainer(cfg, tmp_path / "run")
    data = MixedPatches(training_sources("synthmix", synth_count=64), cfg.resolved().crop or 64, contrastive=True)
    import torch

    samples = [data[k] for k in range(8)]
    batch = {key: torch.stack([s[key] for s in samples]) for key in samples[0]}
    benchmark.group = "tiny BRN train step, batch 8, 64x64"
    benchmark.pedantic(trainer.train_step, args=(batch,), rounds=8, warmup_rounds=2)
