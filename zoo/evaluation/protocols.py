"""Named PSNR/SSIM protocols, so every full-reference number says how it was computed.

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
row, not a code path. The maths that reads a protocol is `metrics`; this module imports nothing
heavy, so a CLI can list protocols and a board can name them without loading torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .. import defaults
from ..errors import UnknownNameError

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
DEFAULT_PROTOCOL = defaults.PROTOCOL


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
