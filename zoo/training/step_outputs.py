"""What one training step reads off its outputs and optimisers: the restored image, float32 copies, gradients."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor


def opt_params(optimizer: torch.optim.Optimizer) -> list[Tensor]:
    """Every parameter an optimiser updates."""
    return [p for group in optimizer.param_groups for p in group["params"]]


def has_grads(optimizer: torch.optim.Optimizer) -> bool:
    """Whether any parameter of `optimizer` got a gradient this step (CoIC's optimiser gets none in stage 1)."""
    return any(p.grad is not None for group in optimizer.param_groups for p in group["params"])


def final_output(outputs: Any) -> Tensor:
    """The restored image among the loss inputs (stage lists end with it; RCDNet's tuple holds its last stage)."""
    if isinstance(outputs, Tensor):
        return outputs
    if isinstance(outputs, tuple) and hasattr(outputs, "backgrounds"):
        return final_output(outputs.backgrounds)
    return final_output(outputs[-1])


def as_float(outputs: Any) -> Any:
    """Outputs (a tensor, or lists / named tuples of them) in float32."""
    if isinstance(outputs, Tensor):
        return outputs.float()
    if isinstance(outputs, tuple) and hasattr(outputs, "_fields"):
        return type(outputs)(*(as_float(o) for o in outputs))
    if isinstance(outputs, (list, tuple)):
        return type(outputs)(as_float(o) for o in outputs)
    return outputs
