"""Forward + backward of every tiny backbone, baseline vs CoIC, side by side (target: CoIC <= 1.3x).

The CoIC side includes what CoIC adds at training time: the encoder pass and the modulated kernels.
Run: `pytest benchmarks/test_backbones.py --benchmark-group-by=param:name`.
"""

from __future__ import annotations

import pytest
import torch

import zoo

MODELS = zoo.list_models()


def _step(model: torch.nn.Module, x: torch.Tensor) -> None:
    model.zero_grad(set_to_none=True)
    model(x).square().mean().backward()


@pytest.mark.parametrize("coic", [False, True], ids=["baseline", "coic"])
@pytest.mark.parametrize("name", MODELS)
def test_train_step(benchmark, name: str, coic: bool) -> None:
    model = zoo.create_model(name, coic=coic).train()
    x = torch.rand(4, 3, 64, 64)
    benchmark.group = f"{name} fwd+bwd tiny 4x64x64"
    benchmark.pedantic(_step, args=(model, x), rounds=10, warmup_rounds=2)
