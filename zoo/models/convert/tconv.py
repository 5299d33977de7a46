"""What the official `TConv`/`TConvTranspose` wrappers (`models/CoIM.py`) add to a key, for every backbone.

A modulatable convolution `X` of the official code is `X.base_conv.conv.{weight,bias}` plus its MLP
`X.g2pa_wgen.{0,2,4}.*`; ours is the convolution itself (`X.weight`) with the MLP as `X.modulator.N`.
A plain checkpoint of the same network (trained without the wrapper) has `X.weight` already, so both
map the same way.

The official forward never calls the MLP of a kernel-1 convolution (`if mode == 'normal' or
self.kernel_size == 1`), and `coicify` builds none there, so those MLPs are dropped, not mapped.
"""

from __future__ import annotations

import torch

_WRAP = ".base_conv.conv."
_MLP = ".g2pa_wgen."


def strip_tconv(key: str) -> str:
    """`X.base_conv.conv.weight` -> `X.weight`, `X.g2pa_wgen.4.bias` -> `X.modulator.4.bias`."""
    return key.replace(_WRAP, ".").replace(_MLP, ".modulator.")


def unused_modulators(state: dict[str, torch.Tensor]) -> set[str]:
    """Official keys of the MLPs that sit on kernel-1 convolutions (never used, see the module docstring)."""
    unused = set()
    for key in state:
        if _MLP in key:
            conv = state.get(key.split(_MLP)[0] + _WRAP + "weight")
            if conv is not None and conv.dim() == 4 and tuple(conv.shape[-2:]) == (1, 1):
                unused.add(key)
    return unused
