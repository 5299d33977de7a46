"""Multiply-accumulate counts, measured with torch's own FLOP counter (no thop, which misses ops).

MACs are reported, labelled as MACs, for one 3 x S x S input (S=128 by default); GFLOPs would be twice that.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


@torch.no_grad()
def count_macs(model: nn.Module, size: int = 128) -> int | None:
    """MACs of one forward pass on a 1 x 3 x size x size input; None when the counter cannot trace it."""
    was_training = model.training
    model.eval()
    try:
        counter = FlopCounterMode(display=False)
        with counter:
            model(torch.rand(1, 3, size, size))
        return int(counter.get_total_flops() // 2)
    except Exception:  # a backbone whose ops the counter does not support: report "unknown"
        return None
    finally:
        model.train(was_training)
