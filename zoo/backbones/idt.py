"""IDT, the Image De-raining Transformer (Xiao et al., "Image De-raining Transformer", IEEE TPAMI 2022),
as the official CoIC code (`models/IDT_CoIM.py`, Schizophreni/CoIC) builds it.

A four-level U-shaped Transformer. Every level runs a few window blocks (windowed multi-head
attention plus a locally-enhanced feed-forward network, LeFF) followed by one *patch-grid* layer:
the feature map is cut into P x P patches, each patch of each channel becomes one P*P-dimensional
token, and attention runs across all patches of the image (the "spatial" branch of IDT). Window
attention adds a relative position bias (offsets clamped to `k_bound`) and a local position term,
a depthwise convolution over the value map of the window. Levels are joined by 4x4 stride-2
convolutions going down and 2x2 stride-2 transposed convolutions going up; the output is a
residual added to the input.

Where CoIC lets z in (`ContextPoint`, mode "mean"): each attention takes its keys and values from
`0.5 * (features + embed(z))` and its queries from the features alone. In a window block the
features are the block's `norm1` output and the mix is normalised again by `norm1_kv`; in a
patch-grid layer they are the raw layer input. The convolutions the official code makes
modulatable (`TConv`/`TConvTranspose`) are plain `nn.Conv2d`/`nn.ConvTranspose2d` here, which
`coicify` replaces; the local position convolutions, which the official code keeps plain, are
`PlainConv2d`.

Official quirks absorbed, not copied:

* Fixed size. The official class is built for `img_size=128` and reads H = W = sqrt(L) everywhere,
  so it only runs on 128 x 128 inputs (its CoIC test feeds 128 tiles). Nothing in the weights
  depends on the size: the relative position tables are indexed by clamped offsets. Here the
  index of the patch-grid attention is computed for the grid at hand (H/P x W/P patches, any
  aspect), and the input is reflect-padded right/bottom to `pad_multiple` (128 for the paper
  config: level 4 is 1/16 of the input and needs whole 8 x 8 windows) and cropped back. On
  multiples of 128 nothing is padded and the model computes what the official one does;
  `train_size` only fixes the per-level choices the official constructor derives from
  `img_size` (window clamp, kernel of the patch-grid position convolution). Larger inputs attend
  across more patches than in training, with offsets past `k_bound` sharing the edge bias.
* `depths` and `num`. The official layers take their block count from a separate `num` argument
  that equals `depths`; `depths` also sets the stochastic-depth schedule, of which every window
  block of a stage uses the first rate of the stage's slice and the patch-grid layer the last.

Official quirks kept, because the trained function depends on them:

* Token order of the patch-grid layer (also in the original IDT code). Its output, laid out
  patch by patch (all P*P pixels of patch 0, then patch 1, ...), is read back as a row-major
  H x W map instead of being folded back into place. `patch_order="official"` (default) keeps this;
  `patch_order="spatial"` folds the patches back where they came from, for new experiments only.
* Keys and values of a window block pass through two LayerNorms (`norm1`, then `norm1_kv`; CoIC
  added the second one), and the LeFF of a patch-grid layer is `mlp_ratio * P * P` wide whatever
  the channel count.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from math import lcm
from typing import Literal

import torch
import torch.nn.functional as F
from timm.layers import DropPath, trunc_normal_
from torch import Tensor, nn

from ..layers import ContextPoint, PlainConv2d, pad_to_multiple

PatchOrder = Literal["official", "spatial"]




def position_kernel(side: int) -> int:
    """Kernel of the local position convolution for a window (or patch grid) of side `side`."""
    distance = min(side - 1, 2)
    return 2 * distance + 1 if distance > 0 else 1


@lru_cache(maxsize=16)
def _relative_index(height: int, width: int, k_bound: int) -> Tensor:
    # Built outside inference mode even when first asked for there: an inference tensor in the cache
    # could not be saved for backward by a later training step of the same process.
    with torch.inference_mode(False):
        coords = torch.stack(torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")).flatten(1)
        offsets = (coords[:, :, None] - coords[:, None, :]).clamp(1 - k_bound, k_bound - 1) + (k_bound - 1)
        return offsets[0] * (2 * k_bound - 1) + offsets[1]


def relative_position_index(height: int, width: int, k_bound: int, device: torch.device) -> Tensor:
    """N x N index into a (2k-1)^2 bias table for the tokens of a height x width grid (row-major)."""
    return _relative_index(height, width, k_bound).to(device)


class WindowAttention(nn.Module):
    """Multi-head attention among the tokens of one window (or one patch grid).

    Queries come from x, keys and values from `kv`. A relative position bias (offsets clamped to
    `k_bound`) is added to the logits, and a local position term, a depthwise convolution over a
    value map projected from x, to the output.
    """

    def __init__(self, dim: int, num_heads: int, k_bound: int, local_kernel: int, qkv_bias: bool = True) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim {dim} is not divisible by num_heads {num_heads}")
        self.dim = dim
        self.num_heads = num_heads
        self.k_bound = k_bound
        self.scale = (dim // num_heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * k_bound - 1) ** 2, num_heads))
        self.to_q = nn.Linear(dim, dim, bias=qkv_bias)
        self.to_kv = nn.Linear(dim, 2 * dim, bias=qkv_bias)
        self.to_local = nn.Linear(dim, dim, bias=qkv_bias)
        self.local = nn.Sequential(
            PlainConv2d(dim, dim, local_kernel, padding=local_kernel // 2, groups=dim),
            nn.Conv2d(dim, dim, 1, groups=num_heads),
        )
        self.proj = nn.Linear(dim, dim)
        trunc_normal_(self.relative_position_bias_table, std=0.02)

    def forward(self, x: Tensor, kv: Tensor, grid: tuple[int, int]) -> Tensor:
        """x, kv: B' x N x C tokens of B' windows laid out row-major on a `grid` (N = h * w)."""
        batch, tokens, channels = x.shape
        heads = self.num_heads
        q = self.to_q(x).reshape(batch, tokens, heads, channels // heads).transpose(1, 2) * self.scale
        k, v = self.to_kv(kv).reshape(batch, tokens, 2, heads, channels // heads).permute(2, 0, 3, 1, 4)
        index = relative_position_index(grid[0], grid[1], self.k_bound, x.device)
        bias = self.relative_position_bias_table[index.reshape(-1)].reshape(tokens, tokens, heads)
        attn = (q @ k.transpose(-2, -1) + bias.permute(2, 0, 1).unsqueeze(0)).softmax(dim=-1)
        values = self.to_local(x).transpose(1, 2).reshape(batch, channels, *grid)
        local = self.local(values).reshape(batch, channels, tokens).transpose(1, 2)
        out = (attn @ v).transpose(1, 2).reshape(batch, tokens, channels) + local
        return self.proj(out)


class LeFF(nn.Module):
    """Locally-enhanced feed-forward network: Linear-GELU, residual depthwise 3x3 conv-GELU, Linear."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.linear1 = nn.Linear(dim, hidden)
        self.dwconv = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden)
        self.linear2 = nn.Linear(hidden, dim)
        self.act = nn.GELU()

    def forward(self, x: Tensor) -> Tensor:
        """x: B x H x W x C."""
        x = self.act(self.linear1(x)).permute(0, 3, 1, 2)
        x = self.act(self.dwconv(x)) + x
        return self.linear2(x.permute(0, 2, 3, 1))


def _drop_path(rate: float) -> nn.Module:
    return DropPath(rate) if rate > 0 else nn.Identity()


def window_partition(x: Tensor, window: int) -> Tensor:
    """B x H x W x C -> (B * nW) x window^2 x C, windows row-major."""
    b, h, w, c = x.shape
    x = x.reshape(b, h // window, window, w // window, window, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, window * window, c)


def window_reverse(windows: Tensor, window: int, height: int, width: int) -> Tensor:
    """Inverse of `window_partition`."""
    c = windows.shape[-1]
    x = windows.reshape(-1, height // window, width // window, window, window, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, height, width, c)


class IDTBlock(nn.Module):
    """Window block: window attention (keys/values may carry z) and LeFF, each with a residual."""

    def __init__(
        self, dim: int, num_heads: int, window: int, k_bound: int, mlp_ratio: float, qkv_bias: bool, drop_path: float
    ) -> None:
        super().__init__()
        self.window = window
        self.norm1 = nn.LayerNorm(dim)
        self.context = ContextPoint(dim, mode="mean", channel_dim=-1)
        self.norm1_kv = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, num_heads, k_bound, position_kernel(window), qkv_bias)
        self.drop_path = _drop_path(drop_path)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = LeFF(dim, int(dim * mlp_ratio))

    def forward(self, x: Tensor) -> Tensor:
        """x: B x H x W x C, H and W multiples of the window."""
        _, height, width, _ = x.shape
        y = self.norm1(x)
        kv = self.norm1_kv(self.context(y))
        w = self.window
        out = self.attn(window_partition(y, w), window_partition(kv, w), (w, w))
        x = x + self.drop_path(window_reverse(out, w, height, width))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class PatchGridLayer(nn.Module):
    """IDT's spatial layer: attention across all P x P patches, one P*P-dim token per patch and channel."""

    def __init__(
        self,
        channels: int,
        num_heads: int,
        patch: int,
        k_bound: int,
        local_kernel: int,
        mlp_ratio: float,
        qkv_bias: bool,
        drop_path: float,
        patch_order: PatchOrder = "official",
    ) -> None:
        super().__init__()
        if patch_order not in ("official", "spatial"):
            raise ValueError(f"patch_order must be 'official' or 'spatial', got {patch_order!r}")
        self.patch = patch
        self.patch_order = patch_order
        token_dim = patch * patch
        self.context = ContextPoint(channels, mode="mean", channel_dim=-1)
        self.attn = WindowAttention(token_dim, num_heads, k_bound, local_kernel, qkv_bias)
        self.drop_path = _drop_path(drop_path)
        self.norm2 = nn.LayerNorm(channels)
        self.mlp = LeFF(channels, int(token_dim * mlp_ratio))

    def _tokens(self, x: Tensor) -> Tensor:
        # B x H x W x C -> (B*C) x patches x P*P
        b, c = x.shape[0], x.shape[-1]
        p = self.patch
        cols = F.unfold(x.permute(0, 3, 1, 2), p, stride=p)
        return cols.reshape(b * c, p * p, -1).transpose(1, 2)

    def forward(self, x: Tensor) -> Tensor:
        """x: B x H x W x C, H and W multiples of the patch size."""
        b, height, width, c = x.shape
        p = self.patch
        grid = (height // p, width // p)
        out = self.attn(self._tokens(x), self._tokens(self.context(x)), grid)
        if self.patch_order == "official":
            y = out.reshape(b, c, height, width)
        else:
            y = F.fold(out.transpose(1, 2).reshape(b, c * p * p, -1), (height, width), p, stride=p)
        x = x + self.drop_path(y.permute(0, 2, 3, 1))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class IDTStage(nn.Module):
    """`depth` window blocks, then (except at the bottleneck) one patch-grid layer."""

    def __init__(self, blocks: Sequence[nn.Module]) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: Tensor) -> Tensor:
        for block in self.blocks:
            x = block(x)
        return x


class IDT(nn.Module):
    """Image De-raining Transformer; defaults build the model of the official CoIC code.

    `depths`/`num_heads` list the nine stages (four encoder levels, bottleneck, four decoder
    levels). `window` is the window side of the window blocks, `patch` the patch side of the
    patch-grid layers; `patch_k_bounds` their relative-offset bounds on encoder levels 0-3 (the
    decoder mirrors them). `train_size` is the crop size the official constructor is built for; it
    fixes, per level, the window clamp and the kernel of the patch-grid position convolution.
    """

    def __init__(
        self,
        embed_dim: int = 32,
        depths: Sequence[int] = (3, 3, 2, 2, 1, 1, 2, 2, 3),
        num_heads: Sequence[int] = (1, 2, 4, 8, 16, 16, 8, 4, 2),
        window: int = 8,
        patch: int = 8,
        window_k_bound: int = 8,
        patch_k_bounds: Sequence[int] = (16, 8, 4, 2),
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop_path_rate: float = 0.1,
        train_size: int = 128,
        patch_order: PatchOrder = "official",
    ) -> None:
        super().__init__()
        if len(depths) != 9 or len(num_heads) != 9 or len(patch_k_bounds) != 4:
            raise ValueError("IDT needs 9 depths, 9 head counts and 4 patch k-bounds")
        if train_size % (16 * patch):
            raise ValueError(f"train_size {train_size} must be a multiple of 16 * patch = {16 * patch}")
        self.embed_dim = embed_dim
        c = embed_dim

        # Stochastic depth, as the official code assigns it (see the module docstring).
        enc_rates = torch.linspace(0, drop_path_rate, sum(depths[:4]), device="cpu").tolist()
        dec_rates = enc_rates[::-1]
        enc_bounds = [sum(depths[:i]) for i in range(5)]
        dec_bounds = [sum(depths[5 : 5 + i]) for i in range(5)]

        def stage(level: int, dim: int, index: int, rates: list[float], grid_bound: int | None) -> IDTStage:
            side = train_size // 2**level
            win = min(window, side)
            blocks: list[nn.Module] = [
                IDTBlock(dim, num_heads[index], win, window_k_bound, mlp_ratio, qkv_bias, rates[0])
                for _ in range(depths[index])
            ]
            if grid_bound is not None:
                kernel = position_kernel(side // patch)
                blocks.append(
                    PatchGridLayer(
                        dim, num_heads[index], patch, grid_bound, kernel, mlp_ratio, qkv_bias, rates[-1], patch_order
                    )
                )
            return IDTStage(blocks)

        self.input_proj = nn.Conv2d(3, c, 3, padding=1)
        self.input_act = nn.LeakyReLU(inplace=True)
        self.encoders = nn.ModuleList(
            stage(level, c * 2**level, level, enc_rates[enc_bounds[level] : enc_bounds[level + 1]], patch_k_bounds[level])
            for level in range(4)
        )
        self.downsamples = nn.ModuleList(nn.Conv2d(c * 2**i, c * 2 ** (i + 1), 4, stride=2, padding=1) for i in range(4))
        self.bottleneck = stage(4, c * 16, 4, [drop_path_rate], None)
        self.upsamples = nn.ModuleList(
            nn.ConvTranspose2d(c * 16 if i == 0 else c * 2 ** (5 - i), c * 2 ** (3 - i), 2, stride=2) for i in range(4)
        )
        self.decoders = nn.ModuleList(
            stage(3 - i, c * 2 ** (4 - i), 5 + i, dec_rates[dec_bounds[i] : dec_bounds[i + 1]], patch_k_bounds[3 - i])
            for i in range(4)
        )
        self.output_proj = nn.Conv2d(2 * c, 3, 3, padding=1)

        multiples = [16] + [2**level * min(window, train_size // 2**level) for level in range(5)]
        multiples += [2**level * patch for level in range(4)]
        self.pad_multiple = lcm(*multiples)
        self.apply(self.init_weights)

    @staticmethod
    def init_weights(module: nn.Module) -> None:
        """IDT's initialiser; `coicify` also applies it to the CoIC layers (`coic_init`), as the official code does."""
        if isinstance(module, nn.Linear):
            trunc_normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    coic_init = init_weights

    def forward(self, x: Tensor) -> Tensor:
        height, width = x.shape[-2:]
        inp = pad_to_multiple(x, self.pad_multiple)
        y = self.input_act(self.input_proj(inp)).permute(0, 2, 3, 1)  # B x H x W x C from here on
        skips = []
        for encoder, down in zip(self.encoders, self.downsamples):
            y = encoder(y)
            skips.append(y)
            y = down(y.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        y = self.bottleneck(y)
        for up, decoder, skip in zip(self.upsamples, self.decoders, reversed(skips)):
            y = torch.cat([up(y.permute(0, 3, 1, 2)).permute(0, 2, 3, 1), skip], dim=-1)
            y = decoder(y)
        out = inp + self.output_proj(y.permute(0, 3, 1, 2))
        return out[..., :height, :width]
