"""Restoration losses the official training scripts use, written for [0, 1] RGB tensors.

- `neg_ssim`: minus SSIM (BRN, IDT), Gaussian window 11 / sigma 1.5 per channel, as pytorch-ssim.
- `l1` (DRSformer), `mse`;
- `charbonnier_edge` (DGUNet: Charbonnier + 0.05 x Charbonnier of Laplacian edges, summed over its
  stage outputs), `rcdnet_stages` (RCDNet's weighted background and rain-layer MSEs in 0..255 units).
Every loss is `loss(outputs, clean, rainy)`. `outputs` is a one-element list of restored images,
except for the losses in `STAGE_LOSSES`, which receive what the backbone's `forward_stages` returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import UnknownNameError


def _gaussian_window(channels: int, size: int = 11, sigma: float = 1.5, like: Tensor | None = None) -> Tensor:
    offsets = torch.arange(size, dtype=torch.float32) - size // 2
    g = torch.exp(-(offsets**2) / (2 * sigma**2))
    g = g / g.sum()
    window = (g[:, None] * g[None, :]).expand(channels, 1, size, size).contiguous()
    return window if like is None else window.to(like)


def ssim(x: Tensor, y: Tensor, size: int = 11, sigma: float = 1.5) -> Tensor:
    """Mean SSIM over channels and pixels (zero padding, C1 = 0.01^2, C2 = 0.03^2 for [0, 1] data)."""
    c = x.shape[1]
    window = _gaussian_window(c, size, sigma, x)
    pad = size // 2

    def blur(t: Tensor) -> Tensor:
        return F.conv2d(t, window, padding=pad, groups=c)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return ssim_map.mean()


def charbonnier(x: Tensor, y: Tensor, eps: float = 1e-3) -> Tensor:
    return torch.sqrt((x - y) ** 2 + eps * eps).mean()


def _laplacian_edges(x: Tensor) -> Tensor:
    """DGUNet's EdgeLoss: image minus a Gaussian-pyramid reconstruction (5x5 binomial, down-up)."""
    k = torch.tensor([0.05, 0.25, 0.4, 0.25, 0.05], dtype=x.dtype, device=x.device)
    kernel = (k[:, None] * k[None, :]).expand(x.shape[1], 1, 5, 5)

    def conv_gauss(t: Tensor) -> Tensor:
        return F.conv2d(F.pad(t, (2, 2, 2, 2), mode="replicate"), kernel, groups=t.shape[1])

    filtered = conv_gauss(x)
    down = filtered[:, :, ::2, ::2]
    up = torch.zeros_like(filtered)
    up[:, :, ::2, ::2] = down * 4
    return x - conv_gauss(up)


def neg_ssim(outputs: list[Tensor], target: Tensor, rainy: Tensor) -> Tensor:
    return sum(-ssim(o, target) for o in outputs)  # type: ignore[return-value]


def l1(outputs: list[Tensor], target: Tensor, rainy: Tensor) -> Tensor:
    return sum(F.l1_loss(o, target) for o in outputs)  # type: ignore[return-value]


def mse(outputs: list[Tensor], target: Tensor, rainy: Tensor) -> Tensor:
    return sum(F.mse_loss(o, target) for o in outputs)  # type: ignore[return-value]


def charbonnier_edge(outputs: list[Tensor], target: Tensor, rainy: Tensor, edge_weight: float = 0.05) -> Tensor:
    """DGUNet: over every stage output (its `forward_stages`), Charbonnier + 0.05 x edge Charbonnier."""
    edges = _laplacian_edges(target)
    total = sum(charbonnier(o, target) + edge_weight * charbonnier(_laplacian_edges(o), edges) for o in outputs)
    return total  # type: ignore[return-value]


def rcdnet_stages(stages: Any, target: Tensor, rainy: Tensor) -> Tensor:
    """RCDNet's official loss (`train_RCDNet.py: loss_func`) from its `forward_stages` output.

    In the official 0..255 units (hence 255^2): 0.1 MSE(B0) + 0.1 sum_s MSE(B_s) + MSE(B_final)
    + 0.1 sum_s MSE(R_s, O - B) + 0.9 MSE(R_last, O - B). Its scale matters: the official
    contrastive weight for RCDNet (50) was tuned against it.
    """
    rain = rainy - target
    per_b = [F.mse_loss(b, target) for b in stages.backgrounds]
    per_r = [F.mse_loss(r, rain) for r in stages.rains]
    loss = (
        0.1 * F.mse_loss(stages.initial, target)
        + 0.1 * torch.stack(per_b[:-1]).sum()
        + per_b[-1]
        + 0.1 * torch.stack(per_r).sum()
        + 0.9 * per_r[-1]
    )
    return loss * 255.0**2


Loss = Callable[[Any, Tensor, Tensor], Tensor]

LOSSES: dict[str, Loss] = {
    "neg_ssim": neg_ssim,
    "l1": l1,
    "mse": mse,
    "charbonnier_edge": charbonnier_edge,
    "rcdnet_stages": rcdnet_stages,
}
STAGE_LOSSES = ("charbonnier_edge", "rcdnet_stages")


def get_loss(name: str) -> Loss:
    if name not in LOSSES:
        raise UnknownNameError(f"unknown loss '{name}'; choose one of: {', '.join(LOSSES)}")
    return LOSSES[name]
