"""Where CoIC's training-time overhead goes: each part switched on alone, side by side in one run.

For one backbone config (batch 4, 64x64, forward + backward of the backbone), five variants:
- `baseline`: the plain backbone;
- `modulated`: every modulated layer as it runs in training (z fixed, so no encoder);
- `kernels-only`: the per-instance kernels are built (stats, MLP, tap softmax, scaled weight) and
  reach the loss, but the convolution is the plain shared-weight one: the cost of building kernels;
- `grouped-conv-only`: the per-instance convolution of the unscaled weight, no kernels built: the cost
  of running each instance with its own kernel;
- `encoder`: the query encoder's forward + backward alone (what `coic` adds on top of `modulated`).
Ratios to `baseline` read off the group table say which part a speed-up must attack.
Run: `pytest benchmarks/test_overhead_split.py --benchmark-group-by=group`.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

import zoo
from zoo.coic import context_of
from zoo.coic.modulation import ModulatedConv2d, _tap_attention
from zoo.coic.per_instance import per_instance_conv2d

CASES = [("brn", "paper"), ("brn", "tiny"), ("dgunet", "tiny")]
VARIANTS = ["baseline", "modulated", "kernels-only", "grouped-conv-only", "encoder"]


def _kernels_only(self: ModulatedConv2d, x: Tensor) -> Tensor:
    c_in_g = self.in_channels // self.groups
    kh, kw = self.kernel_size
    att = _tap_attention(self._mlp(x, self._active_z()), self.out_channels, c_in_g, kh * kw, self.layout)
    kernels = self.weight.unsqueeze(0) * att.reshape(x.shape[0], self.out_channels, c_in_g, kh, kw)
    # The kernels join the graph through a zero-weighted term, so their backward runs too.
    weight = self.weight + 0.0 * kernels.sum(dim=0)
    return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


def _grouped_conv_only(self: ModulatedConv2d, x: Tensor) -> Tensor:
    kernels = self.weight.unsqueeze(0).expand(x.shape[0], *self.weight.shape)
    return per_instance_conv2d(x, kernels, self.bias, self.stride, self.padding, self.dilation, self.groups)


FORWARDS = {"kernels-only": _kernels_only, "grouped-conv-only": _grouped_conv_only}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(("name", "config"), CASES, ids=[f"{n}-{c}" for n, c in CASES])
def test_overhead_part(benchmark, monkeypatch, name: str, config: str, variant: str) -> None:
    x = torch.rand(4, 3, 64, 64)
    model = zoo.create_model(name, coic=variant != "baseline", config=config).train()
    if variant in FORWARDS:
        monkeypatch.setattr(ModulatedConv2d, "forward", FORWARDS[variant])
    if variant == "baseline":

        def step() -> None:
            model.zero_grad(set_to_none=True)
            model(x).square().mean().backward()
    elif variant == "encoder":
        encoder_input = model.encoder_input(x)

        def step() -> None:
            model.zero_grad(set_to_none=True)
            z, features = model.encoder(encoder_input)
            (z.square().sum() + features.square().mean()).backward()
    else:
        z = model.embed(x).detach()

        def step() -> None:
            model.zero_grad(set_to_none=True)
            with context_of(model.backbone).use(z):
                model.backbone(x).square().mean().backward()

    benchmark.group = f"{name} {config} CoIC overhead split, fwd+bwd 4x64x64"
    benchmark.pedantic(step, rounds=5 if config == "paper" else 10, warmup_rounds=1)
