"""Speed of y-matlab PSNR + SSIM: zoo.evaluation.metrics against pyiqa's psnr + ssim (ycbcr) on a 512x512 pair.

Both sides get the same float32 1x3x512x512 tensors, as a test loop would. The two benchmarks
share a group so pytest-benchmark prints them side by side; each asserts that its numbers equal
the other implementation's, so a fast but wrong SSIM cannot pass. Timing is reported, not asserted.

    pytest benchmarks/test_metrics.py --benchmark-only -p no:cacheprovider
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zoo.evaluation.metrics import score

pyiqa = pytest.importorskip("pyiqa")  # the optional `iqa` extra, part of [dev]

ROUNDS = 5
GROUP = "y-matlab psnr+ssim 512x512"


@pytest.fixture(scope="module")
def pair() -> tuple[torch.Tensor, torch.Tensor]:
    """A uint8-quantised noisy output and its target, as [0, 1] float32 batches of one."""
    rng = np.random.default_rng(2024)
    yy, xx = np.mgrid[0:512, 0:512] / 512
    base = np.stack([60 + 150 * xx, 200 - 120 * yy, 128 + 80 * np.sin(6 * np.pi * xx * yy)], axis=0)
    target = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).round()
    output = np.clip(target + rng.normal(0, 8, base.shape), 0, 255).round()
    return _as_batch(output), _as_batch(target)


def _as_batch(levels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(levels / 255).float().unsqueeze(0)


@pytest.fixture(scope="module")
def pyiqa_metrics() -> tuple[torch.nn.Module, torch.nn.Module]:
    """pyiqa's MATLAB-equivalent settings: rounded BT.601 Y for both metrics."""
    psnr = pyiqa.create_metric("psnr", test_y_channel=True, color_space="ycbcr", data_range=255, device="cpu")
    ssim = pyiqa.create_metric("ssim", color_space="ycbcr", device="cpu")
    return psnr, ssim


def pyiqa_score(
    metrics: tuple[torch.nn.Module, torch.nn.Module], output: torch.Tensor, target: torch.Tensor
) -> dict:
    psnr, ssim = metrics
    return {"psnr": psnr(output, target).item(), "ssim": ssim(output, target).item()}


def assert_same(a: dict, b: dict) -> None:
    assert abs(a["psnr"] - b["psnr"]) < 1e-4
    assert abs(a["ssim"] - b["ssim"]) < 1e-5


@pytest.mark.benchmark(group=GROUP)
def test_zoo_y_matlab(benchmark, pair, pyiqa_metrics) -> None:
    output, target = pair
    ours = benchmark.pedantic(score, args=(output, target, "y-matlab"), rounds=ROUNDS, warmup_rounds=1)
    assert_same(ours, pyiqa_score(pyiqa_metrics, output, target))


@pytest.mark.benchmark(group=GROUP)
def test_pyiqa_ycbcr(benchmark, pair, pyiqa_metrics) -> None:
    output, target = pair
    theirs = benchmark.pedantic(pyiqa_score, args=(pyiqa_metrics, output, target), rounds=ROUNDS, warmup_rounds=1)
    assert_same(score(output, target, "y-matlab"), theirs)
