"""Samples per second of the mixed training stream at crop 128, with 0 and 2 DataLoader workers.

Uses the real-dataset loaders on a Rain200-layout folder written by `zoo data synth` (256x256 PNGs),
so decoding, cropping, flipping and the contrastive resizes are all in the measurement.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from torch.utils.data import DataLoader

from zoo.data.layouts import open_dataset
from zoo.data.mixing import MixedPatches, Source, StepSampler
from zoo.data.synth import write_synth

BATCH, STEPS = 8, 8


@pytest.fixture(scope="module")
def rain200(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data") / "Rain200L"
    write_synth(root, domains=("light", "heavy"), per_domain=24, seed=0, size=256, split="train")
    return root


def _drain(loader: DataLoader) -> int:
    return sum(batch["rainy"].shape[0] for batch in loader)


@pytest.mark.parametrize("workers", [0, 2])
def test_mixed_loader(benchmark, rain200: Path, workers: int) -> None:
    pairs = open_dataset("rain200l", rain200, "train", allow_partial=True)
    dataset = MixedPatches([Source("rain200l", pairs, 1.0)], crop=128, seed=0)

    def run() -> int:
        loader = DataLoader(dataset, batch_size=BATCH, sampler=StepSampler(BATCH, 0, STEPS), num_workers=workers)
        return _drain(loader)

    benchmark.group = "mixed loader, crop 128, 64 samples"
    assert benchmark.pedantic(run, rounds=3, warmup_rounds=1) == BATCH * STEPS
