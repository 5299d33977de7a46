"""Tests that catch a wrong modulation kernel or a wrong tile.

The kernel tests compare our modulated convolutions with an independent transcription of the
official `TConv` / `TConvTranspose` forward (models/CoIM.py, Schizophreni/CoIC @8c99e73), written
here as a per-sample loop, for kernel sizes other than 3x3 (a softmax scaled by 9 instead of the
number of taps passes every 3x3 test). The tile tests run a pointwise model, for which tiled and
whole-image restoration must agree exactly, on non-square images whose last tile snaps to the border.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from zoo.coic.modulation import ModulatedConv2d, ModulatedConvTranspose2d, ModulationContext
from zoo.evaluation.inference import _tile_starts, restore


def _official_tconv(x: Tensor, z: Tensor, weight: Tensor, bias: Tensor | None, mlp: nn.Module, stride: int, padding: int, groups: int) -> Tensor:
    """models/CoIM.py TConv.forward(mode='tran'), one sample at a time."""
    c_out, c_in_g, k, _ = weight.shape
    outs = []
    for b in range(x.shape[0]):
        att = mlp(torch.cat([z[b], x[b].mean(dim=(-2, -1))]))
        w1, w2, w3 = att[:c_out], att[c_out : c_out + c_in_g], att[c_out + c_in_g :]
        grid = torch.sigmoid(w1[None, :] + w2[:, None])  # C_in/G x C_out, as w1.unsqueeze(1) + w2.unsqueeze(-1)
        scale = torch.softmax(grid[..., None] * w3, dim=-1).reshape(c_out, c_in_g, k, k) * k**2
        outs.append(F.conv2d(x[b : b + 1], weight * scale, bias, stride, padding, groups=groups))
    return torch.cat(outs)


def _official_tconv_transpose(x: Tensor, z: Tensor, weight: Tensor, bias: Tensor | None, mlp: nn.Module, stride: int, padding: int) -> Tensor:
    """models/CoIM.py TConvTranspose.forward(mode='tran'), one sample at a time (weight C_in x C_out x k x k)."""
    c_in, c_out, k, _ = weight.shape
    outs = []
    for b in range(x.shape[0]):
        att = mlp(torch.cat([z[b], x[b].mean(dim=(-2, -1))]))
        w1, w2, w3 = att[:c_in], att[c_in : c_in + c_out], att[c_in + c_out :]
        grid = torch.sigmoid(w1[None, :] + w2[:, None])  # C_out x C_in
        scale = torch.softmax(grid[..., None] * w3, dim=-1).reshape(c_in, c_out, k, k) * k**2
        outs.append(F.conv_transpose2d(x[b : b + 1], weight * scale, bias, stride, padding))
    return torch.cat(outs)


def _modulated(layer: nn.Module, z: Tensor, x: Tensor) -> Tensor:
    context = ModulationContext()
    layer.context = context
    with context.use(z):
        return layer(x)


def _spread_mlp(mlp: nn.Module) -> None:
    """Larger MLP outputs, so the tap softmax is far from uniform and a wrong scale shows."""
    with torch.no_grad():
        mlp[-1].weight.mul_(8.0)
        mlp[-1].bias.normal_(0.0, 2.0)


@pytest.mark.parametrize(
    ("c_in", "c_out", "k", "stride", "padding", "groups"),
    [(5, 7, 3, 1, 1, 1), (6, 4, 2, 1, 0, 1), (4, 6, 4, 2, 1, 1), (8, 32, 4, 2, 1, 2), (3, 5, 5, 1, 2, 1), (6, 10, 3, 1, 1, 2)],
)
def test_modulated_conv_matches_the_official_tconv(c_in: int, c_out: int, k: int, stride: int, padding: int, groups: int) -> None:
    torch.manual_seed(k * 10 + c_in)
    dim_z = 6
    layer = ModulatedConv2d.from_conv(nn.Conv2d(c_in, c_out, k, stride, padding, groups=groups), dim_z)
    _spread_mlp(layer.modulator)
    x, z = torch.randn(3, c_in, 12, 10), F.normalize(torch.randn(3, dim_z), dim=-1)
    expected = _official_tconv(x, z, layer.weight, layer.bias, layer.modulator, stride, padding, groups)
    torch.testing.assert_close(_modulated(layer, z, x), expected, atol=1e-5, rtol=1e-5)
    assert float((expected - layer._conv_forward(x, layer.weight, layer.bias)).detach().abs().max()) > 1e-2  # modulation matters


@pytest.mark.parametrize(("c_in", "c_out", "k", "stride", "padding"), [(6, 4, 2, 2, 0), (4, 6, 4, 2, 1), (5, 3, 3, 1, 1)])
def test_modulated_transposed_conv_matches_the_official_tconv_transpose(c_in: int, c_out: int, k: int, stride: int, padding: int) -> None:
    torch.manual_seed(k * 7 + c_in)
    dim_z = 6
    layer = ModulatedConvTranspose2d.from_conv(nn.ConvTranspose2d(c_in, c_out, k, stride, padding), dim_z)
    _spread_mlp(layer.modulator)
    x, z = torch.randn(2, c_in, 7, 9), F.normalize(torch.randn(2, dim_z), dim=-1)
    expected = _official_tconv_transpose(x, z, layer.weight, layer.bias, layer.modulator, stride, padding)
    torch.testing.assert_close(_modulated(layer, z, x), expected, atol=1e-5, rtol=1e-5)


class _Pointwise(nn.Module):
    """Acts on each pixel alone, so any correct tiling reproduces the whole-image result exactly."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.sigmoid(3.0 * x[:, [2, 0, 1]] - 1.0) * 0.9 + 0.05 * x


def _official_crops(base: int, length: int, stride: int) -> list[int]:
    """test_model.py obtain_crops, one axis."""
    starts = [i * stride for i in range((length - base) // stride + 1)]
    if (length - base) % stride != 0:
        starts.append(length - base)
    return starts


@pytest.mark.parametrize(("h", "w"), [(150, 170), (40, 52), (170, 150), (52, 40)])
@pytest.mark.parametrize(("tile", "overlap"), [(32, 0), (32, 7), (24, 5), (39, 0)])
def test_tiled_restoration_equals_whole_image_for_a_pointwise_model(h: int, w: int, tile: int, overlap: int) -> None:
    torch.manual_seed(h + w)
    x = torch.rand(2, 3, h, w)
    model = _Pointwise()
    whole = restore(model, x)
    tiled = restore(model, x, tile=tile, overlap=overlap)
    assert not torch.isnan(tiled).any()
    assert float((tiled - whole).abs().max()) < 1e-6


@pytest.mark.parametrize("length", [40, 52, 150, 170, 512, 513, 1024])
@pytest.mark.parametrize(("tile", "overlap"), [(32, 0), (32, 7), (128, 0), (512, 0)])
def test_tile_starts_are_the_official_crops(length: int, tile: int, overlap: int) -> None:
    if length < tile:
        pytest.skip("the official code tiles only images larger than the tile")
    assert _tile_starts(length, tile, tile - overlap) == _official_crops(tile, length, tile - overlap)
