"""Speed of `zoo score` on a test set's worth of outputs: 100 pairs of 481x321 PNGs (Rain200's size), y-matlab.

Target: under 10 s on two cores, reading and pairing included (the command runs in-process, so the
interpreter's start and `import torch` are not counted). The result is checked against the library's
`score` on the same pixels, so a fast but wrong pipeline cannot pass; timing is reported, not asserted.

    pytest benchmarks/test_score.py --benchmark-only -p no:cacheprovider
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.cli_runner import run_cli
from zoo.evaluation.metrics import score

PAIRS = 100
HEIGHT, WIDTH = 321, 481


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """GT/norain-<i>.png and PRED/norain-<i>x2.png: smooth textured targets and noisy copies, seeded."""
    root = tmp_path_factory.mktemp("score")
    (root / "GT").mkdir()
    (root / "PRED").mkdir()
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH] / WIDTH
    base = np.stack([60 + 150 * xx, 200 - 120 * yy, 128 + 80 * np.sin(6 * np.pi * xx * yy)], axis=-1)
    for i in range(1, PAIRS + 1):
        target = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).round().astype(np.uint8)
        pred = np.clip(target + rng.normal(0, 4 + i % 7, base.shape), 0, 255).round().astype(np.uint8)
        Image.fromarray(target).save(root / "GT" / f"norain-{i}.png")
        Image.fromarray(pred).save(root / "PRED" / f"norain-{i}x2.png")
    return root


def test_zoo_score_100_pairs(benchmark, folders: Path, monkeypatch, capsys) -> None:
    args = ["score", str(folders / "PRED"), "--gt", str(folders / "GT"), "--no-progress", "--per-image", str(folders / "pi.csv")]

    def run() -> int:
        return run_cli(args, monkeypatch, capsys)[0]

    assert benchmark.pedantic(run, rounds=3, iterations=1) == 0
    with open(folders / "pi.csv", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert len(lines) == PAIRS
    first = next(line for line in lines if line["key"] == "7")
    want = score(np.array(Image.open(folders / "PRED" / "norain-7x2.png")), np.array(Image.open(folders / "GT" / "norain-7.png")))
    assert float(first["psnr"]) == pytest.approx(want["psnr"], abs=1e-8)
    assert float(first["ssim"]) == pytest.approx(want["ssim"], abs=1e-9)
