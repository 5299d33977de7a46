"""Small layers and helpers shared by several backbones."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def pad_to_multiple(x: Tensor, multiple: int) -> Tensor:
    """Reflect-pad x on the right and bottom so both sides are multiples of `multiple`.

    Where the pad exceeds what one reflection can give, the image is reflected again (a
    mirror-periodic extension); a side of one pixel is replicated. Backbones crop back afterwards.
    """
    for dim in (-1, -2):
        need = (-x.shape[dim]) % multiple
        while need > 0:
            step = min(need, x.shape[dim] - 1)
            mode = "reflect"
            if step == 0:
                step, mode = need, "replicate"
            pad = (0, step, 0, 0) if dim == -1 else (0, 0, 0, step)
            x = F.pad(x, pad, mode=mode)
            need -= step
    return x
