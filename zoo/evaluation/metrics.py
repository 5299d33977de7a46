"""PSNR and SSIM of an output against its clean target, computed the way a named protocol says.

The choices that move these numbers (which luma, whether to quantise, how SSIM downsamples) are data
in `protocols`; this module is the maths that reads them, and the one conversion of every image form
the suite meets (uint8 arrays, uint8 or float tensors, single or batched) into a float64 batch on the
[0, 255] scale, which the no-reference metrics (`noref`) reuse so both score the same pixels.

PSNR and SSIM are computed here in float64 torch rather than through pyiqa: pyiqa's SSIM runs a
full 11x11 float64 convolution (about 0.5 s for a 512x512 pair on two cores), while the Gaussian
window is separable, so two 11-tap passes give the same numbers (to about 1e-15) about 40x faster.
PSNR is then one mean over luma planes already at hand (pyiqa would rebuild Y, in float32). The
tests check agreement with pyiqa and with an independent scipy reference. pyiqa is not imported
here: it is the optional `iqa` extra (its licence is non-commercial, see `extras`), used only by `noref`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..data.images import round_half_up
from ..errors import ZooError
from .protocol_maths import basicsr_luma, round_half_even_float32
from .protocols import DEFAULT_PROTOCOL, Protocol, get_protocol

ImageLike = np.ndarray | torch.Tensor

PEAK = 255.0


def score(output: ImageLike, target: ImageLike, protocol: str | Protocol = DEFAULT_PROTOCOL) -> dict[str, Any]:
    """PSNR and SSIM of `output` against `target`; for a batch, the mean over images.

    Images are uint8 numpy arrays H x W x 3 (or N x H x W x 3, as PIL/cv2 give them), uint8 tensors
    3 x H x W (or N x 3 x H x W, as torchvision gives them), or float arrays/tensors 3 x H x W or
    N x 3 x H x W in [0, 1] (clamped to it, as CoIC does with network outputs). Returns
    {"psnr", "ssim", "protocol", "n"}; the mean of per-image PSNRs is what papers report.
    """
    per_image = score_batch(output, target, protocol)
    return {
        "psnr": float(np.mean([row["psnr"] for row in per_image])),
        "ssim": float(np.mean([row["ssim"] for row in per_image])),
        "protocol": per_image[0]["protocol"],
        "n": len(per_image),
    }


def score_batch(
    output: ImageLike, target: ImageLike, protocol: str | Protocol = DEFAULT_PROTOCOL
) -> list[dict[str, Any]]:
    """One {"psnr", "ssim", "protocol"} row per image, for per-image result tables.

    Images are processed one at a time so that memory stays bounded by one image's SSIM buffers.
    """
    proto = get_protocol(protocol)
    out = _to_batch(output, "output")
    ref = _to_batch(target, "target")
    if out.shape != ref.shape:
        raise ZooError(
            f"output shape {_shape(output)} and target shape {_shape(target)} differ "
            f"(as N x 3 x H x W: {tuple(out.shape)} vs {tuple(ref.shape)}); score images of the same size"
        )
    rows = []
    for index in range(out.shape[0]):
        planes_out = _planes(out[index : index + 1], proto)
        planes_ref = _planes(ref[index : index + 1], proto)
        rows.append(
            {
                "psnr": _psnr(planes_out, planes_ref),
                "ssim": _ssim(planes_out, planes_ref, proto),
                "protocol": proto.name,
            }
        )
    return rows


def _shape(image: Any) -> tuple[int, ...] | str:
    shape = getattr(image, "shape", None)
    return tuple(shape) if shape is not None else type(image).__name__


def _to_batch(image: ImageLike, role: str) -> torch.Tensor:
    """N x 3 x H x W float64 on the [0, 255] scale; uint8 values stay exact integers."""
    if isinstance(image, np.ndarray) and image.dtype == np.uint8:
        if image.ndim not in (3, 4) or image.shape[-1] != 3:
            raise ZooError(f"{role}: a uint8 array must be H x W x 3 or N x H x W x 3 RGB, got {image.shape}")
        tensor = torch.from_numpy(np.ascontiguousarray(image)).movedim(-1, -3).to(torch.float64)
    elif isinstance(image, (np.ndarray, torch.Tensor)):
        if isinstance(image, np.ndarray) and not np.issubdtype(image.dtype, np.floating):
            raise ZooError(f"{role}: expected uint8 or float [0, 1] pixels, got dtype {image.dtype}")
        tensor = torch.from_numpy(image) if isinstance(image, np.ndarray) else image.detach().cpu()
        if tensor.dtype == torch.uint8:
            _check_channels_first(tensor, role, "a uint8 tensor")
            tensor = tensor.to(torch.float64)
        elif tensor.is_floating_point():
            _check_channels_first(tensor, role, "a float image")
            tensor = tensor.to(torch.float64)
            if not bool(torch.isfinite(tensor).all()):
                raise ZooError(f"{role} contains NaN or infinite values; check the model output")
            tensor = tensor.clamp(0.0, 1.0) * PEAK
        else:
            raise ZooError(f"{role}: expected uint8 or float [0, 1] pixels, got dtype {image.dtype}")
    else:
        raise ZooError(f"{role}: expected a numpy array or torch tensor, got {type(image).__name__}")
    if tensor.numel() == 0:
        raise ZooError(f"{role} is empty (shape {_shape(image)})")
    return tensor if tensor.ndim == 4 else tensor.unsqueeze(0)


def _check_channels_first(tensor: torch.Tensor, role: str, what: str) -> None:
    if tensor.ndim not in (3, 4) or tensor.shape[-3] != 3:
        raise ZooError(f"{role}: {what} must be 3 x H x W or N x 3 x H x W RGB, got {tuple(tensor.shape)}")


def _planes(rgb: torch.Tensor, proto: Protocol) -> torch.Tensor:
    """The planes a protocol scores: N x 1 x H x W luma or N x 3 x H x W RGB, [0, 255] scale."""
    if proto.quantize:
        rgb = round_half_up(rgb) if proto.quantize_rounding == "half_up" else round_half_even_float32(rgb)
    if not proto.y_channel:
        return rgb
    if proto.y_float32:
        return basicsr_luma(rgb)
    w_r, w_g, w_b = proto.y_weights
    luma = w_r * rgb[:, 0:1] + w_g * rgb[:, 1:2] + w_b * rgb[:, 2:3] + proto.y_offset
    if proto.round_y:
        luma = torch.floor(luma + 0.5)  # MATLAB rounds half away from zero; Y >= 16 here
    return luma


def _psnr(x: torch.Tensor, y: torch.Tensor) -> float:
    """20*log10(255 / RMSE) without an epsilon, so identical images give inf as in MATLAB."""
    mse = float(torch.mean((x - y) ** 2))
    return math.inf if mse == 0.0 else 10.0 * math.log10(PEAK**2 / mse)


def _gaussian_taps(size: int, sigma: float) -> list[float]:
    """1-D normalised Gaussian; its outer product is MATLAB's fspecial('gaussian', size, sigma)."""
    coords = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    taps = np.exp(-(coords**2) / (2.0 * sigma**2))
    return (taps / taps.sum()).tolist()


def _filter_valid(stack: torch.Tensor, taps: list[float]) -> torch.Tensor:
    """Separable 'valid' correlation over the last two dims, as in-place shifted multiply-adds.

    float64 convolutions have no fast CPU kernel in torch (a 2-D conv2d of the five SSIM maps takes
    ~370 ms at 512x512, conv1d ~100 ms); 2 x 11 fused adds over views take ~10 ms.
    """
    for dim in (-1, -2):
        length = stack.shape[dim] - len(taps) + 1
        acc = stack.narrow(dim, 0, length) * taps[0]
        for offset, tap in enumerate(taps[1:], start=1):
            acc.add_(stack.narrow(dim, offset, length), alpha=tap)
        stack = acc
    return stack


def _matlab_box_subsample(planes: torch.Tensor, factor: int) -> torch.Tensor:
    """`imfilter(img, ones(f)/f^2, 'symmetric', 'same')` then `img(1:f:end, 1:f:end)`, over the last two dims.

    MATLAB puts the kernel's centre at floor((f + 1) / 2), so the box kept at pixel p spans
    p - (centre - 1) .. p + f - centre; 'symmetric' mirrors with the edge pixel repeated.
    """
    before = (factor + 1) // 2 - 1
    for dim in (-1, -2):
        size = planes.shape[dim]
        kept = torch.arange(0, size, factor)
        total = torch.zeros_like(planes.index_select(dim, kept))
        for offset in range(-before, factor - before):
            index = kept + offset
            index = torch.where(index < 0, -index - 1, index)
            index = torch.where(index >= size, 2 * size - index - 1, index)
            total += planes.index_select(dim, index)
        planes = total / factor
    return planes


def _ssim(x: torch.Tensor, y: torch.Tensor, proto: Protocol) -> float:
    """Mean SSIM map of N x C x H x W planes, averaged over channels (Wang's SSIM_index formula)."""
    if proto.ssim_downsample and proto.downsample_style == "matlab":
        factor = max(1, math.floor(min(x.shape[-2:]) / 256 + 0.5))  # MATLAB round; the ratio is positive
        if factor > 1:
            x, y = _matlab_box_subsample(x, factor), _matlab_box_subsample(y, factor)
    elif proto.ssim_downsample:
        factor = max(1, round(min(x.shape[-2:]) / 256))
        if factor > 1:
            x, y = F.avg_pool2d(x, kernel_size=factor), F.avg_pool2d(y, kernel_size=factor)
    if min(x.shape[-2:]) < proto.ssim_window:
        raise ZooError(
            f"image of {x.shape[-2]} x {x.shape[-1]} (after any downsampling) is smaller than the "
            f"{proto.ssim_window} x {proto.ssim_window} SSIM window; score larger images"
        )
    c1 = (proto.ssim_k1 * PEAK) ** 2
    c2 = (proto.ssim_k2 * PEAK) ** 2
    taps = _gaussian_taps(proto.ssim_window, proto.ssim_sigma)
    means = []
    for channel in range(x.shape[1]):
        a, b = x[:, channel], y[:, channel]
        mu_a, mu_b, aa, bb, ab = _filter_valid(torch.stack([a, b, a * a, b * b, a * b]), taps).unbind(0)
        var_a = aa - mu_a * mu_a
        var_b = bb - mu_b * mu_b
        cov = ab - mu_a * mu_b
        ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
            (mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2)
        )
        means.append(float(ssim_map.mean()))
    return float(np.mean(means))
