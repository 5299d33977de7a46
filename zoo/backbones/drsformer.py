"""DRSformer (Chen et al., "Learning A Sparse Transformer Network for Effective Image Deraining",
CVPR 2023), as the official CoIC code (`models/DRSformer_CoIM.py`, Schizophreni/CoIC) builds it.

A four-level Restormer-style U-Net of sparse Transformer blocks (STB). Each block has top-k sparse
attention across channels (TKSA: four attention maps keeping the top 1/2, 2/3, 3/4 and 4/5 of
the keys per query channel, mixed with learned weights) and a mixed-scale feed-forward network
(MSFN: parallel 3x3 and 5x5 depthwise branches that exchange halves). A mixture-of-experts feature
compensator (MEFC: softmax-routed separable/dilated depthwise convolutions and an average pool)
runs after the input embedding and before the output convolution. Levels are joined by
conv + PixelUnshuffle going down and conv + PixelShuffle going up; the output is a residual
added to the input.

Where CoIC lets z in (`ContextPoint`, mode "add"): in every block the keys and values are computed
from `norm1_kv(x + embed(z))`, the queries from `norm1_q(x)`. The convolutions the official code
makes modulatable (`TConv`) are plain `nn.Conv2d` here, which `coicify` replaces; the attention's
depthwise qkv convolution, which the official code keeps plain, is `PlainConv2d`.

Official quirks absorbed, not copied: the network down-samples three times, so the official
test pads inputs to a multiple of 8 (reflect, right/bottom) and crops back; here the model does
that itself. `models/select_model.py` imports `models.DRSformer_PA`, which the repository does not
contain (only its compiled cache does, with the same layer names); `DRSformer_CoIM.py` is the file
followed here. The attention's `attn_drop` (rate 0, never applied) is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from timm.layers import LayerNorm2d
from torch import Tensor, nn

from ..layers import ContextPoint, PlainConv2d, pad_to_multiple

NormType = Literal["with_bias", "bias_free"]

# Fractions of the keys each of the four sparse attention maps keeps: int(C * num / den) of C.
TOP_K_FRACTIONS: tuple[tuple[int, int], ...] = ((1, 2), (2, 3), (3, 4), (4, 5))




class BiasFreeLayerNorm2d(nn.Module):
    """Channel LayerNorm without mean subtraction or bias: x / sqrt(var + eps) * weight (Restormer)."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        var = x.var(dim=1, keepdim=True, unbiased=False)
        return x / torch.sqrt(var + self.eps) * self.weight[:, None, None]


def channel_norm(channels: int, kind: NormType) -> nn.Module:
    """LayerNorm over the channels of an NCHW map, eps 1e-5 as in the official code."""
    if kind == "with_bias":
        return LayerNorm2d(channels, eps=1e-5)
    if kind == "bias_free":
        return BiasFreeLayerNorm2d(channels)
    raise ValueError(f"layer_norm must be 'with_bias' or 'bias_free', got {kind!r}")


class TopKAttention(nn.Module):
    """Top-k sparse self-attention across channels (TKSA); keys and values from a separate input."""

    def __init__(self, dim: int, num_heads: int, bias: bool) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim {dim} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.to_q = nn.Conv2d(dim, dim, 1, bias=bias)
        self.to_kv = nn.Conv2d(dim, 2 * dim, 1, bias=bias)
        self.qkv_dwconv = PlainConv2d(3 * dim, 3 * dim, 3, padding=1, groups=3 * dim, bias=bias)
        self.project_out = nn.Conv2d(dim, dim, 1, bias=bias)
        self.attn1 = nn.Parameter(torch.tensor([0.2]))
        self.attn2 = nn.Parameter(torch.tensor([0.2]))
        self.attn3 = nn.Parameter(torch.tensor([0.2]))
        self.attn4 = nn.Parameter(torch.tensor([0.2]))

    def forward(self, x: Tensor, kv: Tensor) -> Tensor:
        b, c, h, w = x.shape
        qkv = self.qkv_dwconv(torch.cat([self.to_q(x), self.to_kv(kv)], dim=1))
        q, k, v = (t.reshape(b, self.num_heads, c // self.num_heads, h * w) for t in qkv.chunk(3, dim=1))
        q = F.normalize(q, dim=-1)
        k = F.normalize(k, dim=-1)
        attn = (q @ k.transpose(-2, -1)) * self.temperature
        per_head = q.shape[2]
        out = torch.zeros_like(v)
        for (num, den), weight in zip(TOP_K_FRACTIONS, (self.attn1, self.attn2, self.attn3, self.attn4)):
            index = attn.topk(int(per_head * num / den), dim=-1).indices
            keep = torch.zeros_like(attn).scatter_(-1, index, 1.0) > 0
            sparse = attn.masked_fill(~keep, float("-inf")).softmax(dim=-1)
            out = out + (sparse @ v) * weight
        return self.project_out(out.reshape(b, c, h, w))


class MixedScaleFFN(nn.Module):
    """Mixed-scale feed-forward network (MSFN): 3x3 and 5x5 depthwise branches swapping halves."""

    def __init__(self, dim: int, expansion: float, bias: bool) -> None:
        super().__init__()
        hidden = int(dim * expansion)
        self.project_in = nn.Conv2d(dim, 2 * hidden, 1, bias=bias)
        self.dwconv3x3 = nn.Conv2d(2 * hidden, 2 * hidden, 3, padding=1, groups=2 * hidden, bias=bias)
        self.dwconv5x5 = nn.Conv2d(2 * hidden, 2 * hidden, 5, padding=2, groups=2 * hidden, bias=bias)
        self.dwconv3x3_1 = nn.Conv2d(2 * hidden, hidden, 3, padding=1, groups=hidden, bias=bias)
        self.dwconv5x5_1 = nn.Conv2d(2 * hidden, hidden, 5, padding=2, groups=hidden, bias=bias)
        self.project_out = nn.Conv2d(2 * hidden, dim, 1, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        x = self.project_in(x)
        a3, b3 = F.relu(self.dwconv3x3(x)).chunk(2, dim=1)
        a5, b5 = F.relu(self.dwconv5x5(x)).chunk(2, dim=1)
        a = F.relu(self.dwconv3x3_1(torch.cat([a3, a5], dim=1)))
        b = F.relu(self.dwconv5x5_1(torch.cat([b3, b5], dim=1)))
        return self.project_out(torch.cat([a, b], dim=1))


class SparseTransformerBlock(nn.Module):
    """STB: x + TKSA(norm1_q(x), norm1_kv(x [+ embed(z)])), then x + MSFN(norm2(x))."""

    def __init__(self, dim: int, num_heads: int, expansion: float, bias: bool, layer_norm: NormType) -> None:
        super().__init__()
        self.context = ContextPoint(dim, mode="add", channel_dim=1)
        self.norm1_q = channel_norm(dim, layer_norm)
        self.norm1_kv = channel_norm(dim, layer_norm)
        self.attn = TopKAttention(dim, num_heads, bias)
        self.norm2 = channel_norm(dim, layer_norm)
        self.ffn = MixedScaleFFN(dim, expansion, bias)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.norm1_q(x), self.norm1_kv(self.context(x)))
        return x + self.ffn(self.norm2(x))


class SepConv(nn.Module):
    """Expert: depthwise k x k, 1x1, ReLU, depthwise k x k, 1x1 (no biases)."""

    def __init__(self, channels: int, kernel: int) -> None:
        super().__init__()
        pad = kernel // 2
        self.dw1 = nn.Conv2d(channels, channels, kernel, padding=pad, groups=channels, bias=False)
        self.pw1 = nn.Conv2d(channels, channels, 1, bias=False)
        self.dw2 = nn.Conv2d(channels, channels, kernel, padding=pad, groups=channels, bias=False)
        self.pw2 = nn.Conv2d(channels, channels, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.pw2(self.dw2(F.relu(self.pw1(self.dw1(x)))))


class DilConv(nn.Module):
    """Expert: depthwise k x k with dilation 2, then 1x1 (no biases)."""

    def __init__(self, channels: int, kernel: int) -> None:
        super().__init__()
        self.dw = nn.Conv2d(channels, channels, kernel, padding=kernel - 1, dilation=2, groups=channels, bias=False)
        self.pw = nn.Conv2d(channels, channels, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.pw(self.dw(x))


def make_experts(channels: int) -> nn.ModuleList:
    """The eight experts, in the official order: sep 1/3/5/7, dilated 3/5/7, 3x3 average pool."""
    experts: list[nn.Module] = [SepConv(channels, k) for k in (1, 3, 5, 7)]
    experts += [DilConv(channels, k) for k in (3, 5, 7)]
    experts.append(nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False))
    return nn.ModuleList(experts)


NUM_EXPERTS = 8


class ExpertStep(nn.Module):
    """One MEFC step: the experts' outputs, weighted per image by the router, fused by a 1x1 conv."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.experts = make_experts(channels)
        self.fuse = nn.Conv2d(channels * NUM_EXPERTS, channels, 1, bias=False)

    def forward(self, x: Tensor, weights: Tensor) -> Tensor:
        """weights: B x NUM_EXPERTS."""
        states = [expert(x) * weights[:, i, None, None, None] for i, expert in enumerate(self.experts)]
        return F.relu(self.fuse(torch.cat(states, dim=1)))


class FeatureCompensator(nn.Module):
    """MEFC: a router from the pooled input picks soft expert weights for each of `steps` residual steps."""

    def __init__(self, channels: int, steps: int = 4) -> None:
        super().__init__()
        self.steps_count = steps
        width = steps * NUM_EXPERTS
        self.router = nn.Sequential(nn.Linear(channels, 2 * width), nn.ReLU(), nn.Linear(2 * width, width))
        self.preprocess = nn.Conv2d(channels, channels, 1, bias=False)
        self.steps = nn.ModuleList(ExpertStep(channels) for _ in range(steps))

    def forward(self, x: Tensor) -> Tensor:
        weights = self.router(x.mean(dim=(-2, -1))).reshape(-1, self.steps_count, NUM_EXPERTS).softmax(dim=-1)
        x = F.relu(self.preprocess(x))
        for i, step in enumerate(self.steps):
            x = F.relu(step(x, weights[:, i]) + x)
        return x


class Downsample(nn.Sequential):
    """3x3 conv to half the channels, then PixelUnshuffle(2)."""

    def __init__(self, channels: int) -> None:
        super().__init__(nn.Conv2d(channels, channels // 2, 3, padding=1, bias=False), nn.PixelUnshuffle(2))


class Upsample(nn.Sequential):
    """3x3 conv to twice the channels, then PixelShuffle(2)."""

    def __init__(self, channels: int) -> None:
        super().__init__(nn.Conv2d(channels, channels * 2, 3, padding=1, bias=False), nn.PixelShuffle(2))


class DRSformer(nn.Module):
    """DRSformer; defaults build the model of the official CoIC code.

    `dim` is the level-1 width (doubling per level), `num_blocks`/`heads` the blocks and heads per
    level; `mefc` adds the two feature compensators (each with `mefc_steps` steps).
    """

    pad_multiple = 8

    def __init__(
        self,
        dim: int = 48,
        num_blocks: Sequence[int] = (4, 6, 6, 8),
        heads: Sequence[int] = (1, 2, 4, 8),
        ffn_expansion_factor: float = 2.66,
        bias: bool = False,
        layer_norm: NormType = "with_bias",
        mefc: bool = True,
        mefc_steps: int = 4,
    ) -> None:
        super().__init__()
        if len(num_blocks) != 4 or len(heads) != 4:
            raise ValueError("DRSformer needs 4 block counts and 4 head counts")

        def level(width: int, count: int, num_heads: int) -> nn.Sequential:
            return nn.Sequential(
                *(SparseTransformerBlock(width, num_heads, ffn_expansion_factor, bias, layer_norm) for _ in range(count))
            )

        self.patch_embed = nn.Conv2d(3, dim, 3, padding=1, bias=bias)
        self.encoder_level0: nn.Module = FeatureCompensator(dim, mefc_steps) if mefc else nn.Identity()
        self.encoder_level1 = level(dim, num_blocks[0], heads[0])
        self.down1_2 = Downsample(dim)
        self.encoder_level2 = level(dim * 2, num_blocks[1], heads[1])
        self.down2_3 = Downsample(dim * 2)
        self.encoder_level3 = level(dim * 4, num_blocks[2], heads[2])
        self.down3_4 = Downsample(dim * 4)
        self.latent = level(dim * 8, num_blocks[3], heads[3])
        self.up4_3 = Upsample(dim * 8)
        self.reduce_chan_level3 = nn.Conv2d(dim * 8, dim * 4, 1, bias=bias)
        self.decoder_level3 = level(dim * 4, num_blocks[2], heads[2])
        self.up3_2 = Upsample(dim * 4)
        self.reduce_chan_level2 = nn.Conv2d(dim * 4, dim * 2, 1, bias=bias)
        self.decoder_level2 = level(dim * 2, num_blocks[1], heads[1])
        self.up2_1 = Upsample(dim * 2)
        self.decoder_level1 = level(dim * 2, num_blocks[0], heads[0])
        self.refinement: nn.Module = FeatureCompensator(dim * 2, mefc_steps) if mefc else nn.Identity()
        self.output = nn.Conv2d(dim * 2, 3, 3, padding=1, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        height, width = x.shape[-2:]
        inp = pad_to_multiple(x, self.pad_multiple)
        enc1 = self.encoder_level1(self.encoder_level0(self.patch_embed(inp)))
        enc2 = self.encoder_level2(self.down1_2(enc1))
        enc3 = self.encoder_level3(self.down2_3(enc2))
        y = self.latent(self.down3_4(enc3))
        y = self.decoder_level3(self.reduce_chan_level3(torch.cat([self.up4_3(y), enc3], dim=1)))
        y = self.decoder_level2(self.reduce_chan_level2(torch.cat([self.up3_2(y), enc2], dim=1)))
        y = self.decoder_level1(torch.cat([self.up2_1(y), enc1], dim=1))
        out = self.output(self.refinement(y)) + inp
        return out[..., :height, :width]
