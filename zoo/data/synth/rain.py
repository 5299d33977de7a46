"""Procedural rain: streak layers, veiling haze, drops and splashes, composed over a clean background.

Streaks follow the recipe used to make the synthetic deraining sets: sparse seeds convolved with an
anti-aliased line (length, angle from vertical, width), achromatic, added or screen-blended. The
convolution is an FFT product with wrap-around, so a layer costs two small FFTs whatever its length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StreakLayer:
    """One layer of parallel-ish streaks; ranges are sampled per image."""

    density: tuple[float, float]  # seeds per pixel
    length: tuple[float, float]  # pixels at a 128 px reference side
    angle: tuple[float, float]  # degrees from vertical
    width: tuple[float, float]  # Gaussian sigma across the streak, pixels
    brightness: tuple[float, float]
    blur: float = 0.0  # extra isotropic blur sigma of the whole layer


def line_kernel(length: float, angle_deg: float, width: float) -> np.ndarray:
    """An anti-aliased line of unit peak: `length` px long, `angle_deg` from vertical, Gaussian cross-section."""
    half = int(np.ceil(length / 2 + 3 * max(width, 0.5))) + 1
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float32)
    theta = np.deg2rad(angle_deg)
    along = yy * np.cos(theta) + xx * np.sin(theta)
    across = -yy * np.sin(theta) + xx * np.cos(theta)
    sigma = max(width, 0.5)
    profile = np.exp(-(across**2) / (2 * sigma * sigma))
    taper = np.clip(length / 2 + 0.5 - np.abs(along), 0.0, 1.0)
    kernel = profile * taper
    return kernel / max(float(kernel.max()), 1e-6)


def fft_convolve(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Circular convolution of a H x W map with a small centred kernel."""
    h, w = image.shape
    padded = np.zeros((h, w), np.float32)
    kh, kw = kernel.shape
    kh, kw = min(kh, h), min(kw, w)
    padded[:kh, :kw] = kernel[:kh, :kw]
    padded = np.roll(padded, (-(kh // 2), -(kw // 2)), axis=(0, 1))
    return np.fft.irfft2(np.fft.rfft2(image) * np.fft.rfft2(padded), s=(h, w)).astype(np.float32)


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Isotropic Gaussian blur of a H x W (or H x W x C) array, via the FFT (wrap-around)."""
    if sigma <= 0:
        return image
    h, w = image.shape[:2]
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    transfer = np.exp(-2 * (np.pi * sigma) ** 2 * (fy * fy + fx * fx)).astype(np.float32)
    if image.ndim == 3:
        transfer = transfer[..., None]
    return np.fft.irfft2(np.fft.rfft2(image, axes=(0, 1)) * transfer, s=(h, w), axes=(0, 1)).astype(np.float32)


def streaks(
    rng: np.random.Generator,
    h: int,
    w: int,
    layer: StreakLayer,
    angle_offset: float = 0.0,
    drawn: dict[str, float] | None = None,
) -> np.ndarray:
    """One streak layer, H x W float32, peak brightness about `layer.brightness`.

    `drawn`, when given, receives the values sampled for this layer (density, length in pixels at this
    image size, angle, width, brightness, and the fixed blur), so a manifest can list them; the draws
    and their order are the same either way, so recording never changes the image.
    """
    scale = min(h, w) / 128.0
    density = rng.uniform(*layer.density)
    seeds = (rng.random((h, w), dtype=np.float32) < density).astype(np.float32)
    seeds *= rng.uniform(0.6, 1.0, size=(h, w)).astype(np.float32)
    length = rng.uniform(*layer.length) * scale
    angle = rng.uniform(*layer.angle) + angle_offset
    width = rng.uniform(*layer.width)
    kernel = line_kernel(length, angle, width)
    brightness = rng.uniform(*layer.brightness)
    rain = fft_convolve(seeds, kernel) * brightness
    if drawn is not None:
        drawn.update(density=density, length=length, angle=angle, width=width, brightness=brightness, blur=layer.blur)
    return gaussian_blur(rain, layer.blur)


def veil(
    rng: np.random.Generator, h: int, w: int, strength: tuple[float, float], drawn: dict[str, float] | None = None
) -> np.ndarray:
    """Transmission map t in (0, 1]: haze thicker towards the top, as distance grows in outdoor scenes.

    `drawn`, when given, receives the sampled haze coefficient as `haze`.
    """
    beta = rng.uniform(*strength)
    if drawn is not None:
        drawn["haze"] = beta
    depth = np.linspace(1.0, 0.3, h, dtype=np.float32)[:, None] * np.ones((1, w), np.float32)
    return np.exp(-beta * depth)


def drops(rng: np.random.Generator, clean: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Lens drops: discs showing a blurred, flipped view of the scene with a bright rim. Returns (layer, alpha)."""
    h, w, _ = clean.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    alpha = np.zeros((h, w), np.float32)
    seen = gaussian_blur(clean[::-1, ::-1].copy(), 2.0) * 1.1 + 0.05
    for _ in range(count):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        radius = rng.uniform(0.02, 0.07) * min(h, w)
        dist = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2) / radius
        alpha = np.maximum(alpha, np.clip(1.2 - dist, 0.0, 1.0) * 0.85)
    return np.clip(seen, 0, 1), alpha


def splashes(rng: np.random.Generator, h: int, w: int, count: int, brightness: float) -> np.ndarray:
    """Small bright speckles where drops hit the ground (bottom third of the image)."""
    layer = np.zeros((h, w), np.float32)
    ys = rng.integers(2 * h // 3, h, size=count)
    xs = rng.integers(0, w, size=count)
    layer[ys, xs] = brightness * rng.uniform(0.5, 1.0, size=count)
    return gaussian_blur(layer, 0.7) * 4.0
