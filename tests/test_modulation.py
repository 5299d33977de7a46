"""coicify on models the registry has never seen: what it replaces, keeps and computes."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from zoo.coic import (
    ContextPoint,
    ModulatedContextPoint,
    ModulatedConv2d,
    ModulatedConvTranspose2d,
    coicify,
    context_of,
    modulated_layers,
)


class Unseen(nn.Module):
    """Convs, a transposed conv, a grouped conv, 1x1 convs and a context point."""

    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Conv2d(3, 16, 3, padding=1)
        self.down = nn.Conv2d(16, 32, 4, stride=2, padding=1)
        self.grouped = nn.Conv2d(32, 32, 3, padding=1, groups=4, bias=False)
        self.point = ContextPoint(32)
        self.mix = nn.Conv2d(32, 32, 1)
        self.up = nn.ConvTranspose2d(32, 16, 2, stride=2)
        self.reflect = nn.Conv2d(16, 16, 3, padding=1, padding_mode="reflect")
        self.tail = nn.Conv2d(16, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.head(x))
        y = F.relu(self.grouped(F.relu(self.down(y))))
        y = self.mix(self.point(y))
        y = self.reflect(F.relu(self.up(y)))
        return x + self.tail(y)


def _pair() -> tuple[nn.Module, nn.Module]:
    plain = Unseen()
    return plain, coicify(copy.deepcopy(plain), dim_z=8)


def test_replaces_exactly_the_k_gt_1_convs_and_keeps_weights() -> None:
    plain, model = _pair()
    assert type(model.head) is ModulatedConv2d
    assert type(model.down) is ModulatedConv2d
    assert type(model.grouped) is ModulatedConv2d
    assert type(model.reflect) is ModulatedConv2d
    assert type(model.up) is ModulatedConvTranspose2d
    assert type(model.point) is ModulatedContextPoint
    assert type(model.mix) is nn.Conv2d and type(model.tail) is nn.Conv2d
    plain_state, new_state = plain.state_dict(), model.state_dict()
    for key, value in plain_state.items():
        assert torch.equal(new_state[key], value), key
    assert {name for name, _ in modulated_layers(model)} == {"head", "down", "grouped", "reflect", "up", "point"}


def test_mlp_widths_follow_the_official_code() -> None:
    _, model = _pair()
    # plain conv: Linear(dim_z + C_in, C_out) -> 16 -> C_out + C_in + k*k
    assert model.head.modulator[0].weight.shape == (16, 8 + 3)
    assert model.head.modulator[4].weight.shape == (16 + 3 + 9, 16)
    # grouped conv: hidden C_out // 16, output C_out + C_in / groups + k*k
    assert model.grouped.modulator[0].weight.shape == (2, 8 + 32)
    assert model.grouped.modulator[4].weight.shape == (32 + 8 + 9, 16)
    # transposed conv: output C_in + C_out + k*k
    assert model.up.modulator[4].weight.shape == (32 + 16 + 4, 16)


def test_modulation_off_equals_plain_bit_for_bit() -> None:
    plain, model = _pair()
    x = torch.rand(2, 3, 18, 22)
    assert torch.equal(plain(x), model(x))


def test_two_different_z_give_different_outputs() -> None:
    _, model = _pair()
    x = torch.rand(2, 3, 16, 16)
    outs = []
    for seed in (1, 2):
        z = F.normalize(torch.randn(2, 8, generator=torch.Generator().manual_seed(seed)), dim=-1)
        with context_of(model).use(z):
            outs.append(model(x))
    assert (outs[0] - outs[1]).abs().max() > 1e-4
    assert context_of(model).z is None


def test_grouped_batch_equals_per_instance_loop() -> None:
    _, model = _pair()
    x = torch.rand(3, 3, 16, 16)
    z = F.normalize(torch.randn(3, 8), dim=-1)
    with context_of(model).use(z):
        batched = model(x)
        singles = torch.cat([_single(model, x, z, i) for i in range(3)])
    torch.testing.assert_close(batched, singles, atol=1e-5, rtol=0)


def _single(model: nn.Module, x: torch.Tensor, z: torch.Tensor, i: int) -> torch.Tensor:
    with context_of(model).use(z[i : i + 1]):
        return model(x[i : i + 1])


def test_per_instance_kernel_matches_the_formula() -> None:
    """One conv, one instance: the kernel is W * reshape(k*k * softmax(sigmoid(w2 + w1) * w3))."""
    conv = coicify(nn.Sequential(nn.Conv2d(2, 3, 3, padding=1)), dim_z=4)[0]
    x, z = torch.rand(1, 2, 5, 5), torch.rand(1, 4)
    a = conv.modulator(torch.cat([z, x.mean(dim=(2, 3))], dim=1))[0]
    w1, w2, w3 = a[:3], a[3:5], a[5:]
    grid = torch.sigmoid(w2[:, None] + w1[None, :])  # C_in x C_out, as the official code builds it
    att = 9 * torch.softmax(grid[..., None] * w3, dim=-1)
    kernel = conv.weight * att.reshape(3, 2, 3, 3)  # re-read, not transposed: the official quirk
    expected = F.conv2d(x, kernel, conv.bias, padding=1)
    conv.context.z = z
    torch.testing.assert_close(conv(x), expected, atol=1e-6, rtol=0)
    conv.layout = "corrected"
    corrected = F.conv2d(x, conv.weight * att.transpose(0, 1).reshape(3, 2, 3, 3), conv.bias, padding=1)
    torch.testing.assert_close(conv(x), corrected, atol=1e-6, rtol=0)


def test_gradients_reach_every_modulation_mlp_and_context_point() -> None:
    _, model = _pair()
    z = torch.randn(2, 8, requires_grad=True)
    with context_of(model).use(z):
        model(torch.rand(2, 3, 16, 16)).square().mean().backward()
    for name, module in modulated_layers(model):
        owned = module.embed if isinstance(module, ModulatedContextPoint) else module.modulator
        grads = [p.grad for p in owned.parameters()]
        assert all(g is not None and g.abs().sum() > 0 for g in grads), name
    assert z.grad is not None and z.grad.abs().sum() > 0


def test_coicify_twice_is_refused() -> None:
    _, model = _pair()
    with pytest.raises(ValueError, match="already"):
        coicify(model, dim_z=8)
