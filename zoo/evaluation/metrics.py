"""PSNR, SSIM and NIQE under named protocols, so every number says how it was computed.

Deraining papers report PSNR/SSIM that are not comparable unless the protocol is the same, and
the protocol is rarely written down. The choices are small in code and large in decibels:

* which luminance: pyiqa's default Y is YIQ (full range, 0.299R + 0.587G + 0.114B), the literature's
  is BT.601 limited range (16 + 65.481R/255 + ...). Limited range shrinks every difference by
  219/255, which alone adds 20*log10(255/219) = 1.32 dB (chaofengc/IQA-PyTorch #257, swz30/Restormer #55);
* whether the output is quantised to uint8 and whether Y is rounded (MATLAB's `rgb2ycbcr` on uint8
  rounds; about 0.05 dB on a noisy pair);
* whether SSIM is computed on Y or RGB, and whether the image is downsampled first (CoIC's
  `evaluation.py` average-pools by round(min(H, W) / 256); Wang's later `ssim.m`, which RCDNet's
  MATLAB evaluation ships, box-filters and subsamples by MATLAB's round of the same ratio;
  Restormer's MATLAB `SSIM_index` never downsamples).

So a protocol is data: a frozen `Protocol` names every one of these choices, `PROTOCOLS` holds the
ones the suite knows, and every score carries the protocol's name. Adding a protocol means adding a
row, not a code path.

PSNR and SSIM are computed here in float64 torch rather than through pyiqa: pyiqa's SSIM runs a
full 11x11 float64 convolution (about 0.5 s for a 512x512 pair on two cores), while the Gaussian
window is separable, so two 11-tap passes give the same numbers (to about 1e-15) about 40x faster.
PSNR is then one mean over luma planes already at hand (pyiqa would rebuild Y, in float32). The
tests check agreement with pyiqa and with an independent scipy reference. pyiqa is still used for
NIQE, imported lazily because `import pyiqa` takes about 3 s, and only when installed: it is the
optional `iqa` extra (its licence is non-commercial, see `extras`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from ..data.images import round_half_up
from ..errors import UnknownNameError, ZooError
from .extras import require_pyiqa
from .protocol_maths import basicsr_luma, round_half_even_float32

ImageLike = np.ndarray | torch.Tensor

PEAK = 255.0

# BT.601 luma row of MATLAB's rgb2ycbcr, applied to RGB on the [0, 255] scale. MATLAB builds its
# matrix as (1/255) * origT and evaluates T1*R + T2*G + T3*B + 16 in double (imlincomb), so the
# weights are kept in that form: at the rare exact .5 ties the floating-point path decides the
# rounded Y, and this path is MATLAB's.
BT601_MATLAB_WEIGHTS = (65.481 * (1 / 255), 128.553 * (1 / 255), 24.966 * (1 / 255))
# The six-digit weights written in CoIC's evaluation.py (`rgb_to_y`), not the same numbers.
BT601_COIC_WEIGHTS = (0.256789, 0.504129, 0.097906)
BT601_OFFSET = 16.0


@dataclass(frozen=True)
class Protocol:
    """Every choice that changes a PSNR/SSIM number, as data.

    quantize: round the [0, 1] output to uint8 levels first (floor(255x + 0.5), as torchvision's
    `save_image` writes PNGs), because MATLAB scripts score saved images.
    y_channel: score BT.601 luma only; otherwise all three RGB channels (SSIM averaged over them).
    round_y: round Y to integers, as MATLAB's `rgb2ycbcr` does on uint8 input.
    ssim_downsample: downsample by f = max(1, round(min(H, W) / 256)) before SSIM, the way
    `downsample_style` says: "avg_pool" is CoIC's (Python's `round`, so 2.5 -> 2, then
    `avg_pool2d(f)`, which drops a remainder row/column); "matlab" is Wang's `ssim.m` (MATLAB's round,
    half away from zero, then `imfilter(ones(f)/f^2, 'symmetric', 'same')` and every f-th pixel from
    the first, so a remainder row is kept and odd f centres the box on the kept pixel).
    quantize_rounding: "half_up" is floor(255x + 0.5); "half_even_float32" is BasicSR's `tensor2img`
    (float32 product, numpy's round half to even). y_float32: Y through BasicSR's float32 `to_y_channel`.
    All computations use the [0, 255] scale; SSIM on [0, 1] with L = 1 (CoIC) is the same number.
    """

    name: str
    description: str
    citation: str
    y_channel: bool
    quantize: bool
    round_y: bool
    ssim_downsample: bool
    y_weights: tuple[float, float, float] = BT601_MATLAB_WEIGHTS
    y_offset: float = BT601_OFFSET
    ssim_window: int = 11
    ssim_sigma: float = 1.5
    ssim_k1: float = 0.01
    ssim_k2: float = 0.03
    downsample_style: Literal["avg_pool", "matlab"] = "avg_pool"
    quantize_rounding: Literal["half_up", "half_even_float32"] = "half_up"
    y_float32: bool = False


_PROTOCOL_LIST = (
    Protocol(
        name="y-matlab",
        description=(
            "Deraining literature default: output quantised to uint8, MATLAB rgb2ycbcr Y (BT.601 limited range, "
            "rounded), PSNR = 20log10(255/RMSE), SSIM_index (Gaussian 11/1.5, valid, K=0.01/0.03, L=255, "
            "no downsampling)"
        ),
        citation=(
            "swz30/Restormer Deraining/evaluate_PSNR_SSIM.m; Z. Wang et al., Image quality assessment: from error "
            "visibility to structural similarity, IEEE TIP 13(4), 2004"
        ),
        y_channel=True,
        quantize=True,
        round_y=True,
        ssim_downsample=False,
    ),
    Protocol(
        name="coic-paper",
        description=(
            "CoIC evaluation.py exactly: float output clamped to [0,1], unrounded Y = 16 + 0.256789R + 0.504129G "
            "+ 0.097906B, PSNR peak 255, SSIM on Y/255 after avg_pool2d by round(min(H,W)/256) when > 1"
        ),
        # Computed in float64; CoIC's own float32 run of the same formulas differs by ~2e-6 dB and ~2e-6 SSIM.
        citation=(
            "W. Ran et al., Harnessing Joint Rain-/Detail-aware Representations to Eliminate Intricate Rains, "
            "ICLR 2024; Schizophreni/CoIC evaluation.py"
        ),
        y_channel=True,
        quantize=False,
        round_y=False,
        ssim_downsample=True,
        y_weights=BT601_COIC_WEIGHTS,
    ),
    Protocol(
        name="rcdnet-matlab",
        description=(
            "RCDNet's MATLAB Performance_evaluation (statistic.m with its own psnr.m and ssim.m): saved uint8 images, "
            "Y from rgb2ycbcr(im2double(.)), not rounded, PSNR peak 1 on Y in [0,1], SSIM on Y x 255 with Wang's "
            "ssim.m (Gaussian 11/1.5, valid, K=0.01/0.03, L=255, box-filter downsampling by MATLAB round(min(H,W)/256))"
        ),
        # The folder's ssim.m and psnr.m shadow MATLAB's built-ins: ssim is Wang's 2009 version with automatic
        # downsampling (not MATLAB's `ssim`), psnr takes peak 1 because max(Y) <= 2. DRSformer's
        # evaluations/Evaluation_DID-Data_DDN-Data ships the same three files (ssim.m byte-identical up to line
        # endings) for its DID-Data and DDN-Data columns.
        citation=(
            "hongwang01/RCDNet @ c6e1539 Performance_evaluation/{statistic,psnr,ssim}.m; cschenxiang/DRSformer "
            "@ e77bbb4 evaluations/Evaluation_DID-Data_DDN-Data; Z. Wang et al., Image quality assessment: from "
            "error visibility to structural similarity, IEEE TIP 13(4), 2004"
        ),
        y_channel=True,
        quantize=True,
        round_y=False,
        ssim_downsample=True,
        downsample_style="matlab",
    ),
    Protocol(
        name="rgb",
        description=(
            "RGB channels on [0,255] after uint8 quantisation: PSNR over all channels, SSIM (Gaussian 11/1.5, "
            "valid, L=255, no downsampling) averaged over channels"
        ),
        citation="BasicSR psnr_ssim with test_y_channel: false; the RGB-vs-Y gap of va1shn9v/PromptIR #16",
        y_channel=False,
        quantize=True,
        round_y=False,
        ssim_downsample=False,
    ),
    Protocol(
        name="basicsr-y",
        description=(
            "BasicSR calculate_psnr/calculate_ssim, test_y_channel=True, crop_border=0: output quantised by tensor2img "
            "(float32, round half to even), Y = bgr2ycbcr(img/255, y_only) x 255 unrounded (through float32), PSNR "
            "peak 255, SSIM Gaussian 11/1.5 via cv2.filter2D cropped [5:-5] (valid), K=0.01/0.03, L=255, no downsampling"
        ),
        citation=(
            "XPixelGroup/BasicSR @ 8d56e3a basicsr/metrics/psnr_ssim.py, metrics/metric_util.py (to_y_channel), "
            "utils/color_util.py (bgr2ycbcr), utils/img_util.py (tensor2img); Restormer, NAFNet, DRSformer training logs"
        ),
        y_channel=True,
        quantize=True,
        round_y=False,
        ssim_downsample=False,
        quantize_rounding="half_even_float32",
        y_float32=True,
    ),
    Protocol(
        name="float-y",
        description=(
            "FADformer calculate_psnr_torch: float output clamped to [0,1], not quantised, unrounded Y = "
            "(65.481R + 128.553G + 24.966B)/255 + 16/255, PSNR = 10log10(1/MSE), SSIM of pytorch_msssim (Gaussian "
            "11/1.5 separable valid conv, K=0.01/0.03, data_range=1, mean of the map, no downsampling)"
        ),
        # Computed in float64; FADformer runs the same formulas in float32 on CUDA (~1e-6 dB / SSIM away).
        citation=(
            "deng-ai-lab/FADformer @ a234854 utils/utils.py calculate_psnr_torch (Rain200L/H and SPA; its README "
            "sends DID and DDN to MATLAB); VainF/pytorch-msssim 1.0.0 ssim (MIT)"
        ),
        y_channel=True,
        quantize=False,
        round_y=False,
        ssim_downsample=False,
    ),
)

PROTOCOLS: dict[str, Protocol] = {p.name: p for p in _PROTOCOL_LIST}
DEFAULT_PROTOCOL = "y-matlab"

@dataclass(frozen=True)
class MetricInfo:
    """How a metric is named, shown and ranked wherever a number of it is printed or tabulated."""

    name: str
    label: str
    unit: str = ""
    digits: int = 3
    lower_better: bool = False


METRIC_INFO: Mapping[str, MetricInfo] = MappingProxyType(
    {
        info.name: info
        for info in (
            MetricInfo("psnr", "PSNR", "dB", 2),
            MetricInfo("ssim", "SSIM", "", 4),
            MetricInfo("input_psnr", "input PSNR", "dB", 2),
            MetricInfo("input_ssim", "input SSIM", "", 4),
            MetricInfo("niqe", "NIQE", "", 3, lower_better=True),
            MetricInfo("piqe", "PIQE", "", 2, lower_better=True),
            MetricInfo("entropy", "entropy", "bits", 3),
            MetricInfo("input_niqe", "input NIQE", "", 3, lower_better=True),
            MetricInfo("input_piqe", "input PIQE", "", 2, lower_better=True),
            MetricInfo("input_entropy", "input entropy", "bits", 3),
        )
    }
)
METRICS = tuple(METRIC_INFO)


def metric_info(name: str) -> MetricInfo:
    """The metadata of metric `name`; a metric the suite does not know is shown as is, higher better."""
    return METRIC_INFO.get(name) or MetricInfo(name, name)


NIQE_BLOCK = 96  # pyiqa's (and the MATLAB release's) NIQE patch size; smaller images crash inside pyiqa
NIQE_PARAMS_PATH = Path(__file__).parent / "assets" / "niqe_pris_params.mat"
NIQE_SETTINGS: Mapping[str, str] = MappingProxyType(
    {
        "implementation": "pyiqa niqe (version 'original', YIQ luma, as CoIC eval_niqe.py)",
        "prior": "BasicSR 1.4.2 niqe_pris_params.npz (MATLAB NIQE prior), shipped as niqe_pris_params.mat",
        "device": "cpu",
        "input": "uint8-quantised RGB",
    }
)


def list_protocols() -> list[str]:
    """Names of the known protocols, default first, so a CLI can offer them in a stable order."""
    return list(PROTOCOLS)


def get_protocol(name: str | Protocol) -> Protocol:
    """The protocol called `name` (a `Protocol` passes through); an unknown name lists the known ones."""
    if isinstance(name, Protocol):
        return name
    if name in PROTOCOLS:
        return PROTOCOLS[name]
    raise UnknownNameError(f"unknown metric protocol '{name}'; known: {', '.join(PROTOCOLS)}")


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


def niqe(image: ImageLike) -> float:
    """NIQE of one image (lower is better), for test sets without ground truth such as RealInt.

    Computed as CoIC's eval_niqe.py does (pyiqa `niqe` defaults, CPU) on the uint8-quantised image
    (CoIC scored saved PNGs), but with the NIQE prior shipped in this package: pyiqa would download
    it, which fails offline, so nothing is ever downloaded here. See `NIQE_SETTINGS`.
    """
    batch = _to_batch(image, "image")
    if batch.shape[0] != 1:
        raise ZooError(f"niqe scores one image at a time, got a batch of {batch.shape[0]}; call it per image")
    if min(batch.shape[-2:]) < NIQE_BLOCK:
        raise ZooError(
            f"niqe needs at least {NIQE_BLOCK} x {NIQE_BLOCK} pixels (one NIQE block), got "
            f"{batch.shape[-2]} x {batch.shape[-1]}"
        )
    unit = (round_half_up(batch) / PEAK).to(torch.float32)
    with torch.no_grad():
        return float(_niqe_metric()(unit).item())


@functools.lru_cache(maxsize=1)
def _niqe_metric() -> torch.nn.Module:
    """pyiqa's NIQE with the packaged prior; built once because loading the prior and pyiqa is slow."""
    if not NIQE_PARAMS_PATH.is_file():
        raise ZooError(f"the NIQE prior {NIQE_PARAMS_PATH} is missing; reinstall coic-zoo")
    pyiqa = require_pyiqa("NIQE and the other no-reference metrics")
    return pyiqa.create_metric("niqe", device=torch.device("cpu"), pretrained_model_path=str(NIQE_PARAMS_PATH))


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
