"""CPU time per 512x512 image: the PyTorch model against its exported ONNX graph run by onnxruntime.

Both engines get the same two threads and the same image, and run in alternation round by round
(benchmarks/paired.py), so the ratio onnxruntime / torch holds on a machine whose speed drifts; the
absolute milliseconds are only this machine's. No target: the numbers go into the README's Deploy
section. Paper BRN takes minutes per image on 2 cores, so it runs only with `ZOO_BENCH_PAPER=1`.
Run: `pytest benchmarks/test_export.py --benchmark-group-by=group`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

import zoo
from benchmarks.paired import time_pair
from zoo.models.export import export_onnx
from zoo.models.onnx_session import OnnxModel

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

SIZE = 512
CONFIGS = ["tiny", "paper"] if os.environ.get("ZOO_BENCH_PAPER") == "1" else ["tiny"]
ROUNDS = {"tiny": 6, "paper": 2}


@pytest.mark.parametrize("config", CONFIGS)
def test_brn_coic_torch_vs_onnxruntime(benchmark, tmp_path: Path, config: str) -> None:
    """One 512x512 image, batch 1, dynamic-size graph (as `zoo export` writes it), 2 threads each."""
    model = zoo.create_model("brn", coic=True, config=config).eval()
    export_onnx(model, tmp_path / "brn.onnx", label=f"brn ({config}, CoIC)")
    onnx_model = OnnxModel(tmp_path / "brn.onnx", threads=torch.get_num_threads())
    image = torch.rand(1, 3, SIZE, SIZE)

    def torch_step() -> None:
        with torch.inference_mode():
            model(image)

    def onnxruntime_step() -> None:
        onnx_model(image)

    time_pair(
        benchmark,
        f"brn-{config}-coic-{SIZE}px-cpu",
        ("torch", torch_step),
        ("onnxruntime", onnxruntime_step),
        rounds=ROUNDS[config],
    )
