"""The rain-/detail-aware encoder of CoIC and its momentum (key) copy.

The architecture follows the official `models/contrastive.py` (`FeatureExtract`, itself from AirNet):
a 3x3 convolution, three stride-2 residual blocks that double the width, global average pooling and
a two-layer MLP whose output, L2-normalised, is the instance embedding z. Attribute names are the
official ones so an official encoder state dict loads unchanged. The encoder also returns its
normalised feature map, on which the contrastive loss compares instances location by location.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import UnknownNameError

ENCODER_CONFIGS: dict[str, dict[str, int]] = {
    # Paper: the official FeatureExtract(3, 32, 128) fed 128x128 images.
    "paper": {"width": 32, "dim_z": 128, "size": 128},
    # Tiny: a quarter of the encoder's work per image so a CoIC train step stays CPU-friendly.
    "tiny": {"width": 16, "dim_z": 64, "size": 64},
}


class ResBlock(nn.Module):
    """Stride-2 residual block with batch norm and LeakyReLU(0.1), as in the official encoder."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 2) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.LeakyReLU(0.1, inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, 1, 1),
            nn.BatchNorm2d(out_channels),
        )
        self.short_cut = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1, stride, 0, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.relu = nn.LeakyReLU(0.1, inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.block(x) + self.short_cut(x))


class RainDetailEncoder(nn.Module):
    """Maps a rainy image to (z, feature map): z is B x dim_z, the map B x 8*width x H/8 x W/8, both unit-norm.

    Paper configuration: width 32, dim_z 128 (1,257,664 parameters).
    """

    def __init__(self, in_channels: int = 3, width: int = 32, dim_z: int = 128) -> None:
        super().__init__()
        self.dim_z = dim_z
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=True)
        self.resblock = nn.Sequential(
            ResBlock(width, width * 2),
            ResBlock(width * 2, width * 4),
            ResBlock(width * 4, width * 8),
        )
        self.mlp = nn.Sequential(
            nn.Linear(width * 8, dim_z),
            nn.LeakyReLU(0.1, inplace=True),
            nn.Linear(dim_z, dim_z),
        )

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if x.device.type == "cpu":
            # oneDNN's channels-last convolutions suit this encoder's widening, strided blocks: side by
            # side on 2 cores, the no-grad key pass over 24 images took 206 ms instead of 282 ms at
            # 128x128 (48 vs 55 ms at 64x64), the query's forward + backward over 4 images 89 vs 117 ms
            # (28 vs 31 ms); the same sums in another order. Not measured on CUDA: left as it comes there.
            x = x.contiguous(memory_format=torch.channels_last)
        features = self.resblock(self.conv1(x))
        z = F.normalize(self.mlp(features.mean(dim=(-2, -1))), dim=-1)
        return z, F.normalize(features, dim=1)


class MomentumEncoder(nn.Module):
    """A frozen copy of the query encoder, updated as an exponential moving average (MoCo's key encoder).

    It supplies the contrastive keys during training and, as in the official `test_model.py`, the
    embedding z at test time.
    """

    def __init__(self, query: RainDetailEncoder, momentum: float = 0.999) -> None:
        super().__init__()
        self.momentum = momentum
        self.encoder = copy.deepcopy(query)
        for param in self.encoder.parameters():
            param.requires_grad_(False)

    @torch.no_grad()
    def update(self, query: RainDetailEncoder) -> None:
        """key = m * key + (1 - m) * query for parameters; batch-norm buffers follow the key's own forward passes, as in MoCo."""
        for key_param, query_param in zip(self.encoder.parameters(), query.parameters()):
            key_param.mul_(self.momentum).add_(query_param.detach(), alpha=1.0 - self.momentum)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.encoder(x)


def build_encoder(config: str = "tiny", **overrides: int | None) -> tuple[RainDetailEncoder, int]:
    """The encoder of encoder-config `config` and its input size."""
    if config not in ENCODER_CONFIGS:
        raise UnknownNameError(f"unknown encoder config '{config}'; choose one of: {', '.join(ENCODER_CONFIGS)}")
    settings = dict(ENCODER_CONFIGS[config])
    settings.update({k: v for k, v in overrides.items() if v is not None})
    encoder = RainDetailEncoder(width=settings["width"], dim_z=settings["dim_z"])
    return encoder, settings["size"]
