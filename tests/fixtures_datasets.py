"""Builders of tiny on-disk deraining datasets with the official names, for tests.

Every image is 8x10 px (side-by-side files 8x20) and encodes which image it is: red = 20 * id,
green = 17 * rain type (DDN, SPA frame), blue = RAIN_BLUE on rainy images and CLEAN_BLUE on clean ones.
Rainy images also carry bright vertical streaks in every third column, so the rainy half of a
side-by-side file has more high-frequency energy, as real rain does. Medians read the code back even
from JPEG files (DID, DDN), whose compression moves values by a few levels.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

HEIGHT, WIDTH = 8, 10
RAIN_BLUE, CLEAN_BLUE = 200, 40


def rainy_pixels(code: int, kind: int = 0, width: int = WIDTH) -> np.ndarray:
    """A rainy image: flat code colour plus streaks in columns 0, 3, 6, ..."""
    pixels = np.empty((HEIGHT, width, 3), np.uint8)
    pixels[...] = (20 * code, 17 * kind, RAIN_BLUE)
    pixels[:, ::3] = np.minimum(pixels[:, ::3].astype(int) + 55, 255)
    return pixels


def clean_pixels(code: int, width: int = WIDTH) -> np.ndarray:
    """A clean image: flat code colour."""
    pixels = np.empty((HEIGHT, width, 3), np.uint8)
    pixels[...] = (20 * code, 0, CLEAN_BLUE)
    return pixels


def save(path: Path, pixels: np.ndarray) -> Path:
    """Write an image (format from the suffix; JPEG at quality 100), creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"quality": 100, "subsampling": 0} if path.suffix == ".jpg" else {}
    Image.fromarray(pixels).save(path, **options)
    return path


def save_png16(path: Path, pixels: np.ndarray) -> Path:
    """Write a 48-bit RGB PNG by hand: Pillow reads these as plain "RGB", hiding the bit depth."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    height, width = pixels.shape[:2]
    rows = b"".join(b"\x00" + (row.astype(np.uint16) * 257).astype(">u2").tobytes() for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def truncate(path: Path) -> Path:
    """Cut a file to 60 % of its bytes, as an interrupted download would."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 6 // 10])
    return path


def build_rain200(root: Path, title: str = "Rain200H", split: str = "train", n: int = 3, rain: str = "rain") -> Path:
    """`<title>/<split>/rain/norain-{i}x2.png` + `norain/norain-{i}.png`, i = 1..n; returns the dataset folder."""
    folder = root / title
    for i in range(1, n + 1):
        save(folder / split / rain / f"norain-{i}x2.png", rainy_pixels(i))
        save(folder / split / "norain" / f"norain-{i}.png", clean_pixels(i))
    return folder


def build_rain800(root: Path, split: str = "train", n: int = 3) -> Path:
    """Pre-split Rain800 as CoIC reads it: `rain/rain-{i:03d}.png` + `norain/norain-{i:03d}.png`."""
    folder = root / "Rain800"
    for i in range(1, n + 1):
        save(folder / split / "rain" / f"rain-{i:03d}.png", rainy_pixels(i))
        save(folder / split / "norain" / f"norain-{i:03d}.png", clean_pixels(i))
    return folder


def side_by_side(code: int, rain_left: bool) -> np.ndarray:
    """One pair file: rainy and clean halves next to each other."""
    halves = (rainy_pixels(code), clean_pixels(code))
    return np.concatenate(halves if rain_left else halves[::-1], axis=1)


def build_side_by_side(root: Path, title: str, split: str, n: int, rain_left: bool, suffix: str = ".jpg") -> Path:
    """DID (`{i}.jpg`, rain left) or the original Rain800 release (rain right) under `<title>/<split>/`."""
    folder = root / title
    for i in range(1, n + 1):
        save(folder / split / f"{i}{suffix}", side_by_side(i, rain_left))
    return folder


def build_ddn(root: Path, split: str = "test", backgrounds: int = 2, types: int = 14) -> Path:
    """`DDN/<split>/rain/{i}_{j}.jpg` + `norain/{i}.jpg`; ids start at 1 (train) or 901 (test)."""
    folder = root / "DDN"
    first = 1 if split == "train" else 901
    for i in range(first, first + backgrounds):
        save(folder / split / "norain" / f"{i}.jpg", clean_pixels(i - first + 1))
        for j in range(1, types + 1):
            save(folder / split / "rain" / f"{i}_{j}.jpg", rainy_pixels(i - first + 1, j))
    return folder


def build_spa_train(root: Path, scenes: int = 2, frames: int = 2, positions: int = 2) -> Path:
    """`spa/real_world/{s}/{s}-{f}/{s}-{f}_{x}_0.png` + `real_world_gt/{s}/{s}_{x}_0.png`, s = 000, 001, ..."""
    folder = root / "spa"
    for s in range(scenes):
        for x in range(positions):
            code = 1 + s * positions + x
            save(folder / "real_world_gt" / f"{s:03d}" / f"{s:03d}_{x}_0.png", clean_pixels(code))
            for f in range(1, frames + 1):
                frame = folder / "real_world" / f"{s:03d}" / f"{s:03d}-{f}"
                save(frame / f"{s:03d}-{f}_{x}_0.png", rainy_pixels(code, f))
    return folder


def build_spa_test(root: Path, n: int = 3) -> Path:
    """`spa/real_test_1000/rain/{n:03d}.png` + `gt/{n:03d}gt.png`, n from 0."""
    folder = root / "spa"
    for k in range(n):
        save(folder / "real_test_1000" / "rain" / f"{k:03d}.png", rainy_pixels(k + 1))
        save(folder / "real_test_1000" / "gt" / f"{k:03d}gt.png", clean_pixels(k + 1))
    return folder


def build_paired(folder: Path, pairs: dict[str, str], names: tuple[str, str] = ("rain", "norain")) -> Path:
    """A generic paired folder: `pairs` maps rainy stem -> clean stem; codes count from 1 in that order."""
    for code, (rainy, clean) in enumerate(pairs.items(), start=1):
        save(folder / names[0] / f"{rainy}.png", rainy_pixels(code))
        save(folder / names[1] / f"{clean}.png", clean_pixels(code))
    return folder
