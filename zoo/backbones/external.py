"""The thin wrapper around a spandrel architecture class: padding, cropping, the final image.

No architecture code here: `adapted(cls)` is spandrel's class with `SpandrelAdapter`'s `forward` in
front (a subclass; state-dict keys stay spandrel's). The cards that say which class, with which
arguments, live in zoo.catalog.external. What the wrapper adds, without touching the class's code:
* padding: the input is mirror-padded to the size the architecture needs (a multiple of its
  down-sampling or window size; Uformer: a square) and the output cropped back, so any size works;
* one output: multi-stage models (MPRNet) return the final image; `forward_stages` gives all;
* DRUNet's noise-level map: appended as a constant channel when `zoo_noise_level` is set;
* no clamping and no `eval()`: spandrel's `ImageModelDescriptor.__call__` does both, so we never
  call it and train the module itself.
"""

from __future__ import annotations

import importlib
import math
import warnings
from typing import Any

import torch
from torch import Tensor, nn

from ..errors import ZooError
from ..layers.padding import pad_to_multiple


class SpandrelAdapter(nn.Module):
    """Mixed in before a spandrel class: pads, crops and picks the final image; nothing else."""

    zoo_multiple: int = 1
    zoo_square: bool = False
    zoo_noise_level: float | None = None  # 0..255, appended as a constant map (DRUNet)

    def _prepare(self, x: Tensor) -> Tensor:
        multiple = self.zoo_multiple
        if self.zoo_square:
            side = multiple * math.ceil(max(x.shape[-2:]) / multiple)
            x = pad_to_multiple(x, side)
        elif multiple > 1:
            x = pad_to_multiple(x, multiple)
        if self.zoo_noise_level is not None:
            x = torch.cat([x, x.new_full((x.shape[0], 1, *x.shape[-2:]), self.zoo_noise_level / 255.0)], dim=1)
        return x

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        h, w = x.shape[-2:]
        out = super().forward(self._prepare(x))  # type: ignore[misc]
        if isinstance(out, (tuple, list)):
            out = out[0]
        return out[..., :h, :w]

    def forward_stages(self, x: Tensor) -> list[Tensor]:
        """Every stage's image, the final one last (what stage losses such as charbonnier_edge read)."""
        h, w = x.shape[-2:]
        out = super().forward(self._prepare(x))  # type: ignore[misc]
        if not isinstance(out, (tuple, list)):
            raise ZooError(f"{type(self).__name__} gives one output, not stage outputs; --set loss=l1")
        return [o[..., :h, :w] for o in reversed(out)]


_ADAPTED: dict[type, type] = {}


def adapted(cls: type) -> type:
    """`cls` with SpandrelAdapter's forward in front (one class per spandrel class)."""
    if cls not in _ADAPTED:
        _ADAPTED[cls] = type(cls.__name__, (SpandrelAdapter, cls), {"__module__": __name__})
    return _ADAPTED[cls]


def spandrel_class(module: str, name: str) -> type:
    """Class `name` of module `module`, imported now (spandrel-extra-arches' import warns about jit; hushed)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*", category=FutureWarning)
        loaded = importlib.import_module(module)
    return getattr(loaded, name)


def construct(cls: type, kwargs: dict[str, Any]) -> nn.Module:
    """`cls(**kwargs)`, also on the meta device.

    Several constructors call `.item()` on tensors they create, which meta tensors refuse: when
    counting parameters on the meta device, those are built on the CPU and moved over.
    """
    if torch.empty(0).device.type == "meta":
        try:
            return cls(**kwargs)
        except (NotImplementedError, RuntimeError):
            with torch.device("cpu"):
                return cls(**kwargs).to("meta")
    return cls(**kwargs)
