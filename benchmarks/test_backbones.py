"""Forward + backward of every backbone, baseline vs CoIC, side by side.

Targets: CoIC / baseline <= 1.5x for every tiny config, <= 1.3x for the paper configs of BRN and
RCDNet (batch 4, 64x64). The CoIC side includes what CoIC adds at training time: the encoder pass
and the modulated kernels.
Run: `pytest benchmarks/test_backbones.py --benchmark-group-by=group`.
"""

from __future__ import annotations

import pytest
import torch

import zoo

CASES = [(name, "tiny") for name in zoo.list_models()] + [("brn", "paper"), ("rcdnet", "paper")]


def _step(model: torch.nn.Module, x: torch.Tensor) -> None:
    model.zero_grad(set_to_none=True)
    model(x).square().mean().backward()


@pytest.mark.parametrize("coic", [False, True], ids=["baseline", "coic"])
@pytest.mark.parametrize(("name", "config"), CASES, ids=[f"{n}-{c}" for n, c in CASES])
def test_train_step(benchmark, name: str, config: str, coic: bool) -> None:
    model = zoo.create_model(name, coic=coic, config=config).train()
    x = torch.rand(4, 3, 64, 64)
    benchmark.group = f"{name} {config} fwd+bwd 4x64x64"
    benchmark.pedantic(_step, args=(model, x), rounds=6 if config == "paper" else 10, warmup_rounds=2)
