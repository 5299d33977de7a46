"""Convolution of each instance of a batch with its own kernel: the modulated layers' convolution."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

CPU_CHANNEL_BLOCK = 8
"""oneDNN runs a grouped convolution on CPU at the speed of the plain batched one only when every
group's input and output channel counts are multiples of its vector block; other counts take a
slower path. A whole modulated layer (fwd + bwd, batch 4, 64x64, 2 cores), relative to the plain
conv in the same run (benchmarks/test_modulation.py): 32 -> 3 channels 2.95x unpadded, 1.10x padded
to 8; 35 -> 35 channels 1.28x unpadded, 1.21x padded to 40."""


def _block_padding(channels: int, groups: int, device: torch.device) -> int:
    """How many zero channels bring `channels` to a multiple of the CPU block.

    0 off the CPU, and 0 for grouped and depthwise convolutions, whose few channels per group
    padding would multiply (a depthwise conv padded to 8 x 8 does 64 times the work: the tiny IDT
    and DRSformer steps ran 2.5x slower when they were padded).
    """
    if device.type != "cpu" or groups != 1:
        return 0
    return -channels % CPU_CHANNEL_BLOCK


def per_instance_conv2d(
    x: Tensor,
    kernels: Tensor,
    bias: Tensor | None,
    stride: tuple[int, ...],
    padding: int | tuple[int, ...] | str,
    dilation: tuple[int, ...],
    groups: int,
) -> Tensor:
    """conv2d of each x[b] (C_in x H x W) with its own kernels[b] (C_out x C_in/groups x kh x kw).

    One grouped convolution (groups = batch x groups) runs every instance with its own kernel, as the
    official code does, with the bias fused into it; it was faster than torch.func.vmap at every
    shape measured on 2 CPU cores when it replaced that version (commit 050a86f). On
    the CPU the channels of an ungrouped layer are padded with zeros to the oneDNN block
    (`CPU_CHANNEL_BLOCK`): the zero terms add nothing, so the result is the same sum, rounded in a
    different order.
    """
    batch, height, width = x.shape[0], x.shape[-2], x.shape[-1]
    c_out, c_in_g, kh, kw = kernels.shape[1:]
    c_out_g = c_out // groups
    pad_in, pad_out = _block_padding(c_in_g, groups, x.device), _block_padding(c_out_g, groups, x.device)
    if pad_in:
        x = F.pad(x.reshape(batch * groups, c_in_g, height, width), (0, 0, 0, 0, 0, pad_in))
    if pad_in or pad_out:
        kernels = F.pad(kernels.reshape(batch, groups, c_out_g, c_in_g, kh, kw), (0, 0, 0, 0, 0, pad_in, 0, pad_out))
        if bias is not None:
            bias = F.pad(bias.reshape(groups, c_out_g), (0, pad_out))
    c_in_p, c_out_p = c_in_g + pad_in, c_out_g + pad_out
    out = F.conv2d(
        x.reshape(1, batch * groups * c_in_p, height, width),
        kernels.reshape(batch * groups * c_out_p, c_in_p, kh, kw),
        None if bias is None else bias.reshape(-1).repeat(batch),
        stride, padding, dilation, batch * groups,
    )
    out = out.reshape(batch, groups, c_out_p, *out.shape[-2:])
    if pad_out:
        out = out[:, :, :c_out_g]
    return out.reshape(batch, c_out, *out.shape[-2:])
