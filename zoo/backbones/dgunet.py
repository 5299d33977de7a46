"""DGUNet, the deep generalized unfolding network (Mou et al., CVPR 2022), as the official CoIC code builds it.

Paper: C. Mou, Q. Wang, J. Zhang, "Deep Generalized Unfolding Networks for Image Restoration",
CVPR 2022. Layout follows the CoIC release (`models/DGUNet_CoIM.py` of Schizophreni/CoIC): the
DGUNet+ variant with 40 features, U-Net growth 20 and fusion growth 16.

The network unfolds proximal gradient descent into `depth + 2` stages. Each stage has
* a gradient-descent module (GDM): x <- x - r * phi^T(phi(x) - y), where phi and phi^T are small
  residual conv nets learnt in place of the unknown degradation and r is a learnt step size;
* a proximal-mapping module (PMM): shallow features (3x3 conv + channel-attention block), a 4-level
  U-Net (encoder with half-instance-norm blocks, decoder with transposed-conv up-sampling) and a
  supervised attention module (SAM) that emits the stage's image and passes features on.
The first stage and the last stage have their own weights; the `depth` middle stages all share one
set of weights (one `MiddleStage` applied `depth` times). Middle stages merge the previous stage's
SAM features through a learnt 16-dimensional subspace projection (`SubspaceMerge`) and feed the
previous stage's encoder and decoder features into their encoder (cross-stage feature fusion,
CSFF). The last stage fuses its shallow features with the previous SAM features and predicts a
residual onto the input.

Quirks absorbed here:

* The U-Net halves the resolution three times, so the input is reflect-padded right/bottom to a
  multiple of 8 (as the official `test_model.py` does) and the output cropped back. Each side must
  be at least `MIN_SIZE` = 9: the padded side is then at least 16, so the U-Net bottom is at least
  2x2, which its instance norm needs (it always uses per-image statistics, in eval mode too), and
  the reflect pad stays smaller than the side.
* The official network returns the list of all stage images, last stage first; `forward` returns
  only the final image (the official `outputs[0]`) and `forward_stages` returns all of them.
* The official code passes one PReLU module to the channel-attention blocks of both the first and
  the last stage, so they share its single weight. That tie is kept: the PReLU is owned once, as
  `shared_act`, and handed to both blocks at call time (so the state dict holds it once, while the
  official state dict lists it under both blocks' keys).
* Kernel-1 convolutions (SAM, block identities, channel attention) are plain, and CoIC never
  modulates them, so `coicify` leaves them plain too, as the official `mode='tran'` does.
* Widths used by the half-instance norm must be even (the official code splits channels in half).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

UNET_LEVELS = 4
"""Levels of every U-Net (three down-samplings), hence the padding multiple."""
PAD_MULTIPLE = 2 ** (UNET_LEVELS - 1)
MIN_SIZE = 9
"""Smallest input side: padded to 16, the U-Net bottom is 2x2 (instance norm needs > 1 pixel)."""


def conv(in_channels: int, out_channels: int, kernel_size: int, bias: bool) -> nn.Conv2d:
    """A stride-1 convolution with 'same' padding."""
    return nn.Conv2d(in_channels, out_channels, kernel_size, 1, kernel_size // 2, bias=bias)


class ResBlock(nn.Module):
    """x + conv(PReLU(conv(x))): the learnt degradation phi (or its transpose) of a GDM."""

    def __init__(self, channels: int = 3, hidden: int = 64, kernel_size: int = 3) -> None:
        super().__init__()
        self.conv1 = conv(channels, hidden, kernel_size, bias=True)
        self.act = nn.PReLU()
        self.conv2 = conv(hidden, channels, kernel_size, bias=True)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(self.act(self.conv1(x)))


class GradientStep(nn.Module):
    """Gradient-descent module: x - step * phi_t(phi(x) - y)."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.phi = ResBlock(3, hidden)
        self.phi_t = ResBlock(3, hidden)
        self.step = nn.Parameter(torch.full((1,), 0.5))

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return x - self.step * self.phi_t(self.phi(x) - y)


class ChannelAttention(nn.Module):
    """Squeeze-and-excitation: x * sigmoid(W2 relu(W1 mean_hw(x))), 1x1 convs without bias."""

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        self.squeeze = nn.Conv2d(channels, channels // reduction, 1, bias=False)
        self.excite = nn.Conv2d(channels // reduction, channels, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        y = F.adaptive_avg_pool2d(x, 1)
        return x * torch.sigmoid(self.excite(F.relu(self.squeeze(y))))


class CAB(nn.Module):
    """Channel-attention block: x + CA(conv(act(conv(x)))).

    With `own_act=False` the block has no activation of its own and must be given one at call time
    (the official first and last stages share a PReLU).
    """

    def __init__(self, channels: int, reduction: int, own_act: bool = True) -> None:
        super().__init__()
        self.conv1 = conv(channels, channels, 3, bias=False)
        self.act: nn.Module | None = nn.PReLU() if own_act else None
        self.conv2 = conv(channels, channels, 3, bias=False)
        self.attention = ChannelAttention(channels, reduction)

    def forward(self, x: Tensor, act: nn.Module | None = None) -> Tensor:
        act = act if act is not None else self.act
        if act is None:
            raise ValueError("this CAB shares its activation; pass it as `act`")
        return x + self.attention(self.conv2(act(self.conv1(x))))


class ShallowFeatures(nn.Module):
    """3x3 conv from RGB to `channels` features, then a channel-attention block."""

    def __init__(self, channels: int, reduction: int, own_act: bool = True) -> None:
        super().__init__()
        self.conv = conv(3, channels, 3, bias=False)
        self.cab = CAB(channels, reduction, own_act)

    def forward(self, x: Tensor, act: nn.Module | None = None) -> Tensor:
        return self.cab(self.conv(x), act)


class SAM(nn.Module):
    """Supervised attention module as in the CoIC DGUNet: two 1x1 convs, no attention mask.

    Returns (features + conv(features), image + conv(features)).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv_feat = conv(channels, channels, 1, bias=False)
        self.conv_img = conv(channels, 3, 1, bias=False)

    def forward(self, x: Tensor, image: Tensor) -> tuple[Tensor, Tensor]:
        return x + self.conv_feat(x), image + self.conv_img(x)


class SubspaceMerge(nn.Module):
    """Merge features x with a bridge by projecting the bridge onto a learnt subspace.

    A 3x3 conv of [x, bridge] gives `subspace` basis maps V (L1-normalised over pixels); the bridge
    is replaced by its least-squares projection V (V^T V)^-1 V^T bridge, and a 3x3 conv of
    [x, projected bridge] is added to x.
    """

    def __init__(self, channels: int, subspace: int = 16) -> None:
        super().__init__()
        self.subspace = subspace
        self.basis = conv(2 * channels, subspace, 3, bias=True)
        self.fuse = conv(2 * channels, channels, 3, bias=True)

    def forward(self, x: Tensor, bridge: Tensor) -> Tensor:
        b, c, h, w = bridge.shape
        v_t = self.basis(torch.cat([x, bridge], dim=1)).reshape(b, self.subspace, h * w)
        v_t = v_t / (1e-6 + v_t.abs().sum(dim=2, keepdim=True))
        v = v_t.transpose(1, 2)
        projector = torch.matmul(torch.inverse(torch.matmul(v_t, v)), v_t)
        coefficients = torch.matmul(projector, bridge.reshape(b, c, h * w).transpose(1, 2))
        projected = torch.matmul(v, coefficients).transpose(1, 2).reshape(b, c, h, w)
        return x + self.fuse(torch.cat([x, projected], dim=1))


class UNetConvBlock(nn.Module):
    """Two 3x3 conv + LeakyReLU(0.2) with a 1x1 identity path; optional HIN and CSFF.

    With `half_instance_norm` the first conv's output has instance norm on its first half of the
    channels. With `csff` the block also takes the previous stage's encoder and decoder features
    (cross-stage feature fusion) and modulates its output with them.
    """

    def __init__(
        self, in_channels: int, out_channels: int, csff: bool = False, half_instance_norm: bool = False
    ) -> None:
        super().__init__()
        self.conv1 = conv(in_channels, out_channels, 3, bias=True)
        self.conv2 = conv(out_channels, out_channels, 3, bias=True)
        self.identity = conv(in_channels, out_channels, 1, bias=True)
        self.csff = csff
        if csff:
            self.csff_enc = conv(out_channels, out_channels, 3, bias=True)
            self.csff_dec = conv(in_channels, out_channels, 3, bias=True)
            self.phi = conv(out_channels, out_channels, 3, bias=True)
            self.gamma = conv(out_channels, out_channels, 3, bias=True)
        self.norm: nn.InstanceNorm2d | None = None
        if half_instance_norm:
            if out_channels % 2:
                raise ValueError(f"half-instance norm needs an even width, got {out_channels}")
            self.norm = nn.InstanceNorm2d(out_channels // 2, affine=True)

    def forward(self, x: Tensor, enc: Tensor | None = None, dec: Tensor | None = None) -> Tensor:
        out = self.conv1(x)
        if self.norm is not None:
            half = out.shape[1] // 2
            out = torch.cat([self.norm(out[:, :half]), out[:, half:]], dim=1)
        out = F.leaky_relu(out, 0.2)
        out = F.leaky_relu(self.conv2(out), 0.2) + self.identity(x)
        if enc is not None and dec is not None:
            if not self.csff:
                raise ValueError("this block has no cross-stage fusion; do not pass enc/dec")
            skip = F.leaky_relu(self.csff_enc(enc) + self.csff_dec(dec), 0.1)
            out = out * torch.sigmoid(self.phi(skip)) + self.gamma(skip) + out
        return out


class Encoder(nn.Module):
    """U-Net encoder: widths channels + growth * level, a 4x4 stride-2 conv after each level but the last.

    All blocks use half-instance norm; with `csff` the down-sampling levels also fuse the previous
    stage's encoder and decoder features.
    """

    def __init__(self, channels: int, growth: int, csff: bool) -> None:
        super().__init__()
        widths = [channels + growth * level for level in range(UNET_LEVELS)]
        levels = range(UNET_LEVELS - 1)
        self.blocks = nn.ModuleList(
            UNetConvBlock(widths[i], widths[i + 1], csff=csff, half_instance_norm=True) for i in levels
        )
        self.downs = nn.ModuleList(nn.Conv2d(widths[i + 1], widths[i + 1], 4, 2, 1, bias=False) for i in levels)
        self.bottom = UNetConvBlock(widths[-1], widths[-1], half_instance_norm=True)

    def forward(
        self, x: Tensor, prev_enc: list[Tensor] | None = None, prev_dec: list[Tensor] | None = None
    ) -> tuple[list[Tensor], Tensor]:
        """(full-resolution features of levels 0..2, bottom features); CSFF when prev_* are given."""
        skips: list[Tensor] = []
        for i, (block, down) in enumerate(zip(self.blocks, self.downs, strict=True)):
            enc = prev_enc[i] if prev_enc is not None else None
            dec = prev_dec[-i - 1] if prev_dec is not None else None
            full = block(x, enc, dec)
            skips.append(full)
            x = down(full)
        return skips, self.bottom(x)


class UpBlock(nn.Module):
    """2x transposed-conv up-sampling, concatenation with the skip, then a plain U-Net block."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, out_channels, 2, 2, 0, bias=True)
        self.block = UNetConvBlock(2 * out_channels, out_channels)

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        return self.block(torch.cat([self.up(x), skip], dim=1))


class Decoder(nn.Module):
    """U-Net decoder; each skip goes through a 3x3 conv first. Returns every level's output, coarse to fine."""

    def __init__(self, channels: int, growth: int) -> None:
        super().__init__()
        widths = [channels + growth * level for level in range(UNET_LEVELS)]
        levels = range(UNET_LEVELS - 1, 0, -1)
        self.ups = nn.ModuleList(UpBlock(widths[i], widths[i - 1]) for i in levels)
        self.skips = nn.ModuleList(conv(widths[i], widths[i - 1], 3, bias=True) for i in levels)

    def forward(self, x: Tensor, skips: list[Tensor]) -> list[Tensor]:
        outs: list[Tensor] = []
        for i, (up, skip_conv) in enumerate(zip(self.ups, self.skips, strict=True)):
            x = up(x, skip_conv(skips[-i - 1]))
            outs.append(x)
        return outs


class StageState(NamedTuple):
    """What one stage hands to the next: SAM features, stage image, encoder and decoder features."""

    features: Tensor
    image: Tensor
    enc: list[Tensor]
    dec: list[Tensor]


class MiddleStage(nn.Module):
    """One middle stage (its weights are shared by all `depth` middle stages): GDM, then PMM with CSFF."""

    def __init__(self, channels: int, growth: int, reduction: int, gdm_hidden: int, subspace: int) -> None:
        super().__init__()
        self.gdm = GradientStep(gdm_hidden)
        self.shallow = ShallowFeatures(channels, reduction)
        self.merge = SubspaceMerge(channels, subspace)
        self.encoder = Encoder(channels, growth, csff=True)
        self.decoder = Decoder(channels, growth)
        self.sam = SAM(channels)

    def forward(self, rainy: Tensor, prev: StageState) -> StageState:
        x_img = self.gdm(prev.image, rainy)
        x = self.merge(self.shallow(x_img), prev.features)
        enc, bottom = self.encoder(x, prev.enc, prev.dec)
        dec = self.decoder(bottom, enc)
        features, image = self.sam(dec[-1], x_img)
        return StageState(features, image, enc, dec)


class DGUNet(nn.Module):
    """Deep generalized unfolding network (DGUNet+ layout of the CoIC release).

    `channels` shallow-feature width (official 40), `growth` U-Net width increase per level (20),
    `fusion_growth` extra width of the last stage's fusion conv (16), `depth` number of weight-shared
    middle stages (5), `reduction` channel-attention reduction (4), `gdm_hidden` width of the GDM
    residual blocks (64), `subspace` dimension of the subspace merge (16).
    """

    def __init__(
        self,
        channels: int = 40,
        growth: int = 20,
        fusion_growth: int = 16,
        depth: int = 5,
        reduction: int = 4,
        gdm_hidden: int = 64,
        subspace: int = 16,
    ) -> None:
        super().__init__()
        self.depth = depth
        # One PReLU shared by the first and the last stage's channel-attention blocks (official tie).
        self.shared_act = nn.PReLU()
        # First stage.
        self.gdm_first = GradientStep(gdm_hidden)
        self.shallow_first = ShallowFeatures(channels, reduction, own_act=False)
        self.encoder_first = Encoder(channels, growth, csff=False)
        self.decoder_first = Decoder(channels, growth)
        self.sam_first = SAM(channels)
        # Middle stages (one set of weights).
        self.middle = MiddleStage(channels, growth, reduction, gdm_hidden, subspace)
        # Last stage.
        self.gdm_last = GradientStep(gdm_hidden)
        self.shallow_last = ShallowFeatures(channels, reduction, own_act=False)
        self.fuse_last = conv(2 * channels, channels + fusion_growth, 3, bias=False)
        self.tail = conv(channels + fusion_growth, 3, 3, bias=False)

    def _stages(self, rainy: Tensor) -> list[Tensor]:
        """Stage images in order (first stage first, final image last) on a padded input."""
        x_img = self.gdm_first(rainy, rainy)
        x = self.shallow_first(x_img, self.shared_act)
        enc, bottom = self.encoder_first(x)
        dec = self.decoder_first(bottom, enc)
        features, image = self.sam_first(dec[-1], x_img)
        state = StageState(features, image, enc, dec)
        images = [image]
        for _ in range(self.depth):
            state = self.middle(rainy, state)
            images.append(state.image)
        x_img = self.gdm_last(state.image, rainy)
        x = self.shallow_last(x_img, self.shared_act)
        x = self.fuse_last(torch.cat([x, state.features], dim=1))
        images.append(self.tail(x) + rainy)
        return images

    def forward_stages(self, x: Tensor) -> list[Tensor]:
        """Every stage's image for a rainy [0, 1] image x, in stage order (`depth + 2` entries).

        The last entry is the final image (what `forward` returns; the official list holds them in
        reverse order). The official loss sums Charbonnier and 0.05 x edge loss over all entries.
        """
        h, w = x.shape[-2:]
        if min(h, w) < MIN_SIZE:
            raise ValueError(f"DGUNet needs images of at least {MIN_SIZE}x{MIN_SIZE}, got {h}x{w}")
        pad_h, pad_w = -h % PAD_MULTIPLE, -w % PAD_MULTIPLE
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="reflect")
        return [image[..., :h, :w] for image in self._stages(x)]

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_stages(x)[-1]
