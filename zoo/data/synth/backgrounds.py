"""Procedural clean backgrounds for `synthmix`: no image files, so nothing to download or license.

Three styles give the domains different content, as the real datasets differ (BSD photos for Rain200,
landscapes for DID, street scenes for DDN): `photo` (coloured 1/f texture under occluding "dead
leaves", whose edge statistics resemble natural images), `landscape` (sky, fractal horizon, textured
ground) and `urban` (facades with window grids and strong vertical edges). All are float32 H x W x 3 in
[0.03, 0.92], leaving headroom for bright rain.
"""

from __future__ import annotations

import numpy as np

STYLES = ("photo", "landscape", "urban")


def fbm(rng: np.random.Generator, h: int, w: int, beta: float) -> np.ndarray:
    """Fractional-Brownian-like noise: white noise shaped to a 1/f^beta power spectrum, scaled to [0, 1]."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    radius = np.sqrt(fy * fy + fx * fx)
    radius[0, 0] = 1.0
    spectrum = np.fft.rfft2(rng.standard_normal((h, w)).astype(np.float32)) * radius ** (-beta / 2)
    spectrum[0, 0] = 0.0
    field = np.fft.irfft2(spectrum, s=(h, w)).astype(np.float32)
    lo, hi = field.min(), field.max()
    return (field - lo) / max(hi - lo, 1e-6)


def _palette(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(0.05, 0.9, size=(n, 3)).astype(np.float32)


def _colourise(rng: np.random.Generator, field: np.ndarray) -> np.ndarray:
    low, high = _palette(rng, 2)
    return low + field[..., None] * (high - low)


def _dead_leaves(rng: np.random.Generator, image: np.ndarray, count: int) -> None:
    h, w, _ = image.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    scale = min(h, w)
    for _ in range(count):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        radius = scale * rng.uniform(0.03, 0.25) ** 1.5 * 2
        colour = _palette(rng, 1)[0]
        if rng.random() < 0.6:
            mask = (yy - cy) ** 2 + (xx - cx) ** 2 < radius**2
        else:
            mask = (np.abs(yy - cy) < radius * rng.uniform(0.3, 1.0)) & (np.abs(xx - cx) < radius)
        shade = 0.85 + 0.3 * (yy[mask] - cy) / (scale + 1e-6)
        image[mask] = colour * shade[:, None]


def photo(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    image = _colourise(rng, fbm(rng, h, w, rng.uniform(2.0, 3.0)))
    _dead_leaves(rng, image, int(rng.integers(8, 24)))
    image *= 0.8 + 0.4 * fbm(rng, h, w, 2.5)[..., None]
    return image


def landscape(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    sky_top, sky_bottom = np.array([0.35, 0.5, 0.8]), np.array([0.75, 0.8, 0.9])
    sky_top = (sky_top * rng.uniform(0.7, 1.1, 3)).astype(np.float32)
    rows = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    image = np.broadcast_to(sky_top + rows * (sky_bottom - sky_top), (h, w, 3)).copy()
    horizon = (0.3 + 0.35 * fbm(rng, 1, w, 2.0)[0]) * h
    ground = _colourise(rng, fbm(rng, h, w, rng.uniform(1.6, 2.4))) * np.array([0.7, 0.9, 0.6], np.float32)
    below = np.arange(h, dtype=np.float32)[:, None] > horizon[None, :]
    image[below] = ground[below]
    image += 0.08 * (fbm(rng, h, w, 1.5)[..., None] - 0.5)
    return image


def urban(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    image = np.empty((h, w, 3), np.float32)
    x = 0
    while x < w:
        width = int(rng.integers(max(w // 8, 4), max(w // 2, 5)))
        facade = _palette(rng, 1)[0] * rng.uniform(0.6, 1.0)
        image[:, x : x + width] = facade
        step_y, step_x = int(rng.integers(6, 16)), int(rng.integers(6, 14))
        window = _palette(rng, 1)[0] * 0.5
        for wy in range(int(rng.integers(0, 4)), h - 4, step_y):
            for wx in range(x + 2, min(x + width - 3, w - 3), step_x):
                image[wy : wy + step_y // 2, wx : wx + step_x // 2] = window
        x += width
    image *= 0.75 + 0.5 * fbm(rng, h, w, 2.2)[..., None]
    return image


_BUILDERS = {"photo": photo, "landscape": landscape, "urban": urban}


def background(rng: np.random.Generator, h: int, w: int, style: str) -> np.ndarray:
    """A clean background of `style` (one of STYLES), float32 H x W x 3 in [0.03, 0.92]."""
    image = _BUILDERS[style](rng, h, w)
    if rng.random() < 0.5:
        image = image[:, ::-1]
    return np.clip(image, 0.03, 0.92).astype(np.float32)
