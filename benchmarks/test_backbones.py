"""Forward + backward of every backbone, baseline vs CoIC, timed in alternation.

Targets: CoIC / baseline <= 1.5x for every tiny config, <= 1.3x for the paper configs of BRN and
RCDNet (batch 4, 64x64). The CoIC side includes what CoIC adds at training time: the encoder pass
and the modulated kernels. Each benchmark round runs both steps (`paired.py`); the ratios, the
median of the per-round ratios, are printed at the end of the run.
Run: `pytest benchmarks/test_backbones.py --benchmark-group-by=group`.
"""

from __future__ import annotations

import pytest
import torch

import zoo
from benchmarks.paired import time_pair

CASES = [(name, "tiny") for name in zoo.list_models()] + [("brn", "paper"), ("rcdnet", "paper")]
TARGETS = {"tiny": 1.5, "paper": 1.3}  # the paper cases are BRN and RCDNet, the two the issue names


def _step(model: torch.nn.Module, x: torch.Tensor) -> None:
    model.zero_grad(set_to_none=True)
    model(x).square().mean().backward()


@pytest.mark.parametrize(("name", "config"), CASES, ids=[f"{n}-{c}" for n, c in CASES])
def test_train_step(benchmark, name: str, config: str) -> None:
    baseline = zoo.create_model(name, coic=False, config=config).train()
    coic = zoo.create_model(name, coic=True, config=config).train()
    x = torch.rand(4, 3, 64, 64)
    time_pair(
        benchmark,
        f"{name} {config} fwd+bwd 4x64x64",
        ("baseline", lambda: _step(baseline, x)),
        ("coic", lambda: _step(coic, x)),
        rounds=6 if config == "paper" else 10,
        warmup=2,
        target=TARGETS[config],
    )
