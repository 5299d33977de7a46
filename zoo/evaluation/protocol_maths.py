"""The arithmetic of BasicSR's metric path, step by step, so `basicsr-y` matches BasicSR to the last bit.

BasicSR (XPixelGroup/BasicSR @ 8d56e3a) scores validation images this way, and Restormer, NAFNet and
DRSformer print its numbers in their training logs:

* `tensor2img` turns the float network output into uint8 with `(img * 255.0).round()` on a float32
  array: the product is rounded to float32 first, then numpy rounds half to even. MATLAB-style
  scripts and torchvision's `save_image` round half up instead, so near-ties land elsewhere.
* `to_y_channel` computes the luma unrounded but through float32: `img.astype(np.float32) / 255.`,
  then `bgr2ycbcr(..., y_only=True)` = `np.dot(img, [24.966, 128.553, 65.481]) + 16.0` (float64,
  since the weights are a Python list), divided by 255 and stored as float32, then `* 255.` in
  float32. The float32 steps move Y by up to about 1e-5 levels, far below any reported digit, but
  they are what BasicSR computes, so they are reproduced rather than approximated.

PSNR and SSIM themselves are the suite's (`metrics._psnr`, `metrics._ssim`): BasicSR's `_ssim` is the
Gaussian 11/1.5 window through `cv2.filter2D` cropped `[5:-5, 5:-5]`, i.e. Wang's 'valid' SSIM_index.
"""

from __future__ import annotations

import torch

# bgr2ycbcr's y_only row, in its own (BGR) order, applied to [0, 1] values.
BASICSR_BGR_WEIGHTS = (24.966, 128.553, 65.481)


def round_half_even_float32(levels: torch.Tensor) -> torch.Tensor:
    """`tensor2img`'s uint8 levels from 255 x output on the [0, 255] scale (float64 in, float64 out).

    `levels` is 255 times a float32 output held in float64, which is exact (24 + 8 mantissa bits), so
    rounding it to float32 gives exactly the float32 product `img * 255.0` that BasicSR rounds.
    """
    return torch.round(levels.to(torch.float32)).to(torch.float64)


def basicsr_luma(rgb: torch.Tensor) -> torch.Tensor:
    """`to_y_channel` of N x 3 x H x W RGB levels in [0, 255]: N x 1 x H x W unrounded Y on [0, 255], float64."""
    unit = rgb.to(torch.float32) / 255.0  # img.astype(np.float32) / 255.
    blue, green, red = (unit[:, c : c + 1].to(torch.float64) for c in (2, 1, 0))
    w_b, w_g, w_r = BASICSR_BGR_WEIGHTS
    luma = blue * w_b + green * w_g + red * w_r + 16.0  # np.dot(img, [...]) + 16.0, in float64
    stored = (luma / 255.0).to(torch.float32)  # _convert_output_type_range(..., np.float32)
    return (stored * 255.0).to(torch.float64)  # `img * 255.` in float32, then astype(np.float64)
