"""BRN, the bilateral recurrent network (Ren et al., IEEE TIP 2020), as the official CoIC code builds it.

Two coupled recurrent branches run for `iterations` steps: a rain branch estimates the rain layer r
and an image branch the background x; each has a convolutional LSTM whose hidden state the other
branch also reads. Compared with the original BRN the rain branch has three residual blocks, not
five (the official CoIC `models/BRN_CoIM.py` comments the last two out). There is no global skip:
the output is the image branch's last estimate. All convolutions are 3x3, stride 1, padding 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class ResidualPair(nn.Module):
    """conv-ReLU-conv-ReLU; the caller adds the skip and the final ReLU, as the official code does."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, 1)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(self.conv2(torch.relu(self.conv1(x))))


class ConvLSTMGates(nn.Module):
    """The four gate convolutions of one branch's convolutional LSTM."""

    def __init__(self, in_channels: int, channels: int) -> None:
        super().__init__()
        self.conv_i = nn.Conv2d(in_channels, channels, 3, 1, 1)
        self.conv_f = nn.Conv2d(in_channels, channels, 3, 1, 1)
        self.conv_g = nn.Conv2d(in_channels, channels, 3, 1, 1)
        self.conv_o = nn.Conv2d(in_channels, channels, 3, 1, 1)

    def forward(self, x: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
        i = torch.sigmoid(self.conv_i(x))
        f = torch.sigmoid(self.conv_f(x))
        g = torch.tanh(self.conv_g(x))
        o = torch.sigmoid(self.conv_o(x))
        c = f * c + i * g
        return o * torch.tanh(c), c


class Branch(nn.Module):
    """One BRN branch: input conv, LSTM, residual blocks, output conv to 3 channels."""

    def __init__(self, in_channels: int, channels: int, blocks: int) -> None:
        super().__init__()
        self.conv0 = nn.Conv2d(in_channels, channels, 3, 1, 1)
        self.lstm = ConvLSTMGates(3 * channels, channels)
        self.blocks = nn.ModuleList(ResidualPair(channels) for _ in range(blocks))
        self.conv = nn.Conv2d(channels, 3, 3, 1, 1)

    def forward(self, x: Tensor, h_own: Tensor, h_other: Tensor, c: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        x = torch.relu(self.conv0(x))
        h, c = self.lstm(torch.cat([x, h_own, h_other], dim=1), c)
        x = h
        for block in self.blocks:
            x = F.relu(block(x) + x)
        return self.conv(x), h, c


class BRN(nn.Module):
    """Bilateral recurrent network. `iterations` recurrent steps; `channels` feature width."""

    def __init__(self, channels: int = 32, iterations: int = 8, image_blocks: int = 5, rain_blocks: int = 3) -> None:
        super().__init__()
        self.channels = channels
        self.iterations = iterations
        self.rain = Branch(6, channels, rain_blocks)
        self.image = Branch(9, channels, image_blocks)

    def forward(self, rainy: Tensor) -> Tensor:
        b, _, h, w = rainy.shape
        state = rainy.new_zeros(b, self.channels, h, w)
        h_x, c_x, h_r, c_r = state, state, state, state
        x, r = rainy, rainy
        for _ in range(self.iterations):
            # Order matters for parity: the rain branch reads the image state before it is updated.
            r, h_r, c_r = self.rain(torch.cat([rainy, r], dim=1), h_r, h_x, c_r)
            x, h_x, c_x = self.image(torch.cat([rainy, x, r], dim=1), h_x, h_r, c_x)
        return x
