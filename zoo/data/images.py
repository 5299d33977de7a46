"""Reading images: strictly for dataset files, leniently for photos to derain; writing restored PNGs.

PSNR/SSIM protocols assume 8-bit RGB on both sides of a pair. The official CoIC code reads with
`cv2.imread`, which silently turns grayscale into three equal channels and squeezes 16-bit PNGs into
8 bits; either would make a broken file look fine and skew the scores. So this module refuses every
image that is not 8-bit RGB (palette images without transparency are converted, as that is lossless),
and turns Pillow's decode failures into one-line `DatasetError`s that name the file.

Truncation is detected only while Pillow's global `ImageFile.LOAD_TRUNCATED_IMAGES` is False (its
default); code that switches it on makes truncated files load with grey padding.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import DatasetError, ZooError

if TYPE_CHECKING:
    from torch import Tensor

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
"""File suffixes (lower case) that count as images when a folder is listed."""

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "F"})
_FIX_RGB = "re-export it as 8-bit RGB or restore the file from the dataset release"


def is_image_file(path: Path) -> bool:
    """True for a visible file whose suffix is an image suffix; hidden files (.DS_Store, ._x.png) never are."""
    return not path.name.startswith(".") and path.suffix.lower() in IMAGE_SUFFIXES


def image_files_in(folder: Path, name: str) -> list[Path]:
    """The image files directly in `folder`, sorted (possibly none: the caller says what that means).

    A folder that cannot be listed is one error line starting with `name`, the way the caller names it."""
    try:
        return sorted(p for p in folder.iterdir() if p.is_file() and is_image_file(p))
    except OSError as err:
        raise ZooError(f"{name}: cannot list the folder ({err.strerror or type(err).__name__}); check its permissions") from None


def png_bit_depth(path: Path) -> int | None:
    """Bits per channel from a PNG's IHDR chunk, or None for other formats.

    Pillow opens a 48-bit RGB PNG as mode "RGB" and drops the low byte, so the mode alone cannot
    reveal a 16-bit file; the header can.
    """
    with open(path, "rb") as handle:
        head = handle.read(26)
    if len(head) < 26 or not head.startswith(_PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return None
    return head[24]


def _refuse_unsupported(path: Path, image: Image.Image) -> None:
    """Raise for any image whose pixels cannot become 8-bit RGB without guessing."""
    mode = image.mode
    if png_bit_depth(path) == 16 or mode.startswith("I;16"):
        raise DatasetError(f"{path} is a 16-bit image; the protocol needs 8-bit RGB: {_FIX_RGB}")
    if mode in _GRAY_MODES:
        raise DatasetError(f"{path} is grayscale (mode {mode}); the protocol needs 8-bit RGB: {_FIX_RGB}")
    if mode == "P" and "transparency" not in image.info:
        return
    if mode != "RGB":
        raise DatasetError(f"{path} has pixel mode {mode}; the protocol needs 8-bit RGB without alpha: {_FIX_RGB}")


def read_rgb(path: str | Path) -> np.ndarray:
    """Decode one image fully into a new writable uint8 array of shape (H, W, 3), RGB order."""
    path = Path(path)
    try:
        with Image.open(path) as image:
            _refuse_unsupported(path, image)
            image.load()
            pixels = np.array(image if image.mode == "RGB" else image.convert("RGB"), dtype=np.uint8)
    except DatasetError:
        raise
    except FileNotFoundError:
        raise DatasetError(f"{path} does not exist; restore it from the dataset release") from None
    except PermissionError:
        raise DatasetError(f"{path} cannot be read (permission denied); ask its owner for read access") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, UnidentifiedImageError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise DatasetError(
            f"{path} cannot be decoded ({reason}): the file is truncated or corrupt; re-download or re-extract it"
        ) from exc
    return pixels


def split_side_by_side(whole: np.ndarray, rainy_half: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Cut a side-by-side pair file into (rainy, clean) halves; `rainy_half` is "left" or "right"."""
    width = whole.shape[1]
    if width % 2:
        raise DatasetError(
            f"{path} is {width} px wide, an odd width, so it is not two equal side-by-side halves; "
            "re-extract the file from the release"
        )
    left, right = whole[:, : width // 2], whole[:, width // 2 :]
    pair = (left, right) if rainy_half == "left" else (right, left)
    return np.ascontiguousarray(pair[0]), np.ascontiguousarray(pair[1])


def high_frequency_energy(image: np.ndarray) -> float:
    """Mean absolute difference between neighbouring pixels of the luminance.

    Rain streaks are thin bright lines, so the rainy version of a scene has more of this energy than
    its clean version; comparing the two halves of a pair file tells which one is rainy.
    """
    gray = image.astype(np.float32).mean(axis=2)
    return float(np.abs(np.diff(gray, axis=1)).mean() + np.abs(np.diff(gray, axis=0)).mean())


def rainy_half_votes(paths: list[Path], sample: int = 16) -> tuple[int, int, list[str]]:
    """Read up to `sample` evenly spaced side-by-side files; count those whose left / right half is busier.

    Returns (left votes, right votes, one-line errors of files that could not be read).
    """
    if not paths:
        return 0, 0, []
    count = min(sample, len(paths))
    picks = sorted({round(k * (len(paths) - 1) / max(count - 1, 1)) for k in range(count)})
    left = right = 0
    errors: list[str] = []
    for index in picks:
        try:
            whole = read_rgb(paths[index])
            first, second = split_side_by_side(whole, "left", paths[index])
        except DatasetError as exc:
            errors.append(str(exc))
            continue
        if high_frequency_energy(first) >= high_frequency_energy(second):
            left += 1
        else:
            right += 1
    return left, right, errors


def read_photo(path: Path) -> Tensor:
    """A photo to derain as a 1 x 3 x H x W float tensor in [0, 1].

    Unlike `read_rgb` (dataset files, where anything but 8-bit RGB means a broken release), a photo
    is taken as it comes: EXIF rotation applied, alpha dropped, grayscale and 16-bit scaled to RGB.
    """
    import torch
    from PIL import ImageOps

    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            if image.mode.startswith("I"):  # 16/32-bit grayscale: scale instead of clipping at 255
                gray = np.asarray(image, dtype=np.float32) / 65535.0
                pixels = np.repeat(gray.clip(0.0, 1.0)[..., None], 3, axis=2)
            else:
                pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    except (
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        struct.error,
        UnidentifiedImageError,
        Image.DecompressionBombError,
    ) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ZooError(f"{path}: not a readable image ({reason}); check the file, or export it again as PNG or JPEG") from None
    return torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1).unsqueeze(0)


def round_half_up(scaled: Tensor) -> Tensor:
    """uint8 levels of values on the [0, 255] scale: floor(v + 0.5) in float64, as MATLAB's `im2uint8`.

    The one quantisation rule of coic-zoo: written PNGs and every metric protocol that quantises its
    input use it, so scoring a model's written outputs gives the numbers its evaluation gave.
    """
    import torch

    return torch.floor(scaled.to(torch.float64) + 0.5)


def write_png(image: Tensor, path: Path) -> None:
    """Save a restored image (1 x 3 x H x W or 3 x H x W in [0, 1]) as 8-bit RGB PNG, atomically."""
    import torch

    from .._atomic import atomic_write

    if image.dim() == 4:
        image = image[0]
    levels = round_half_up(image.detach().to("cpu", torch.float64).clamp(0, 1) * 255)
    pixels = levels.to(torch.uint8).permute(1, 2, 0).numpy()
    atomic_write(path, lambda tmp: Image.fromarray(pixels, "RGB").save(tmp, format="PNG"))
