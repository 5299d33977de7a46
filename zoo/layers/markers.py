"""Markers a backbone places in its architecture so that `zoo.coicify` knows what to do there.

They are identities (or plain convolutions) in a plain backbone, so a backbone file imports only
these and torch, and stays usable with no CoIC at all.
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn


class ContextPoint(nn.Module):
    """Marks where a Transformer lets z in (where its attention input is formed); identity until coicified.

    `mode="add"` adds an embedding of z there (DRSformer); `mode="mean"` averages the features with
    it (IDT). `channel_dim` is the axis that holds the `channels` features (1 for NCHW maps, -1 for
    token sequences).
    """

    def __init__(self, channels: int, mode: Literal["add", "mean"] = "add", channel_dim: int = 1) -> None:
        super().__init__()
        if mode not in ("add", "mean"):
            raise ValueError(f"ContextPoint mode must be 'add' or 'mean', got {mode!r}")
        self.channels = channels
        self.mode = mode
        self.channel_dim = channel_dim

    def forward(self, x: Tensor) -> Tensor:
        return x

    def extra_repr(self) -> str:
        return f"channels={self.channels}, mode={self.mode}, channel_dim={self.channel_dim}"



class PlainConv2d(nn.Conv2d):
    """A Conv2d that `coicify` leaves plain although its kernel is larger than 1x1.

    For the convolutions the official CoIC code builds as plain `nn.Conv2d` rather than `TConv`
    (IDT's local position convolutions, DRSformer's depthwise qkv convolution): marking them keeps
    our CoIC models layer-for-layer equal to the official ones.
    """

    coic_modulate = False
