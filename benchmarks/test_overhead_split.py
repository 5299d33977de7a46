"""Where CoIC's training-time overhead goes: each part switched on alone, timed in alternation.

For one backbone config (batch 4, 64x64, forward + backward of the backbone), each benchmark round
runs five steps (`paired.py`), and the summary at the end of the run gives each one's median
per-round ratio to the baseline:
- `baseline`: the plain backbone;
- `modulated`: every modulated layer as it runs in training (z fixed, so no encoder);
- `kernels-only`: the per-instance kernels are built (stats, MLP, tap softmax, scaled weight) and
  reach the loss, but the convolution is the plain shared-weight one: the cost of building kernels;
- `grouped-conv-only`: the per-instance convolution of the unscaled weight, no kernels built: the cost
  of running each instance with its own kernel;
- `encoder`: the query encoder's forward + backward alone (what `coic` adds on top of `modulated`).
Run: `pytest benchmarks/test_overhead_split.py --benchmark-group-by=group`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

import zoo
from benchmarks.paired import time_alternating
from zoo.coic import context_of
from zoo.coic.modulation import ModulatedConv2d
from zoo.coic.per_instance import per_instance_conv2d

CASES = [("brn", "paper"), ("brn", "tiny"), ("dgunet", "tiny")]
TRAINING_FORWARD = ModulatedConv2d.forward


def _kernels_only(self: ModulatedConv2d, x: Tensor) -> Tensor:
    kernels = self.instance_kernels(x, self._active_z())
    # The kernels join the graph through a zero-weighted term, so their backward runs too.
    weight = self.weight + 0.0 * kernels.sum(dim=0)
    return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


def _grouped_conv_only(self: ModulatedConv2d, x: Tensor) -> Tensor:
    kernels = self.weight.unsqueeze(0).expand(x.shape[0], *self.weight.shape)
    return per_instance_conv2d(x, kernels, self.bias, self.stride, self.padding, self.dilation, self.groups)


@pytest.mark.parametrize(("name", "config"), CASES, ids=[f"{n}-{c}" for n, c in CASES])
def test_overhead_split(benchmark, monkeypatch, name: str, config: str) -> None:
    x = torch.rand(4, 3, 64, 64)
    baseline = zoo.create_model(name, coic=False, config=config).train()
    model = zoo.create_model(name, coic=True, config=config).train()
    z = model.embed(x).detach()
    encoder_input = model.encoder_input(x)

    def baseline_step() -> None:
        baseline.zero_grad(set_to_none=True)
        baseline(x).square().mean().backward()

    def backbone_step(forward: Callable[[ModulatedConv2d, Tensor], Tensor]) -> Callable[[], None]:
        def step() -> None:
            monkeypatch.setattr(ModulatedConv2d, "forward", forward)
            model.zero_grad(set_to_none=True)
            with context_of(model.backbone).use(z):
                model.backbone(x).square().mean().backward()

        return step

    def encoder_step() -> None:
        model.zero_grad(set_to_none=True)
        embedding, features = model.encoder(encoder_input)
        (embedding.square().sum() + features.square().mean()).backward()

    steps = [
        ("baseline", baseline_step),
        ("modulated", backbone_step(TRAINING_FORWARD)),
        ("kernels-only", backbone_step(_kernels_only)),
        ("grouped-conv-only", backbone_step(_grouped_conv_only)),
        ("encoder", encoder_step),
    ]
    rounds = 5 if config == "paper" else 10
    time_alternating(benchmark, f"{name} {config} CoIC overhead split, fwd+bwd 4x64x64", steps, rounds, warmup=1)
