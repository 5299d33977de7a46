"""Reading a method's saved outputs for scoring: 8-bit RGB as is, 16-bit and alpha read with a stated rule.

Dataset files are read strictly (`zoo.data.images.read_rgb` refuses anything but 8-bit RGB), but
outputs come from other people's code: some save 16-bit PNGs, some RGBA. Refusing them would push
users to convert with a tool that rounds or composites in some unstated way; reading them silently
would hide that the number was not computed on 8-bit RGB. So they are read by one fixed rule, and
the rule is returned as a note that `zoo score` prints and records on the result rows:

* 16-bit PNG: value / 65535, a float image in [0, 1] that each protocol then treats as a float
  network output (quantising protocols round it to uint8 levels). Pillow would silently drop the low
  byte of a 48-bit PNG, so these are decoded with torchvision.
* alpha (RGBA, palette images with transparency): the alpha channel is dropped, not composited.

Grayscale and other colour models (CMYK, ...) are refused: a deraining output is RGB, and a guess at
how to turn it into RGB would change the score. EXIF orientation is ignored: pixels are scored as stored.
"""

from __future__ import annotations

import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..data.images import png_bit_depth
from ..errors import ZooError

NOTE_16BIT = "16-bit PNGs read as value / 65535 (floats in [0, 1], quantised by the protocol like any float output)"
NOTE_ALPHA = "alpha channels dropped (not composited)"
_GRAY = frozenset({"1", "L", "LA", "La", "I", "F", "I;16", "I;16L", "I;16B", "I;16N"})
_ALPHA = frozenset({"RGBA", "RGBa", "PA"})
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, UnidentifiedImageError, Image.DecompressionBombError)


@dataclass(frozen=True)
class ImageInfo:
    """Size and reading notes of one file, from its header only."""

    height: int
    width: int
    notes: frozenset[str]


def _unreadable(path: Path, err: BaseException) -> ZooError:
    reason = (str(err).splitlines() or [type(err).__name__])[0]
    return ZooError(f"{path}: not a readable image ({reason}); re-export it as PNG")


def probe(path: Path) -> ImageInfo:
    """Size and notes of `path` without decoding its pixels; refuses grayscale and non-RGB colour models."""
    try:
        with Image.open(path) as image:
            mode, (width, height), transparent = image.mode, image.size, "transparency" in image.info
    except _DECODE_ERRORS as err:
        raise _unreadable(path, err) from None
    if mode in _GRAY:
        raise ZooError(f"{path} is grayscale (mode {mode}); scoring needs RGB images: save the output as RGB")
    if mode not in ("RGB", "P") and mode not in _ALPHA:
        raise ZooError(f"{path} has pixel mode {mode}; scoring needs RGB images: save the output as RGB")
    notes = set()
    if png_bit_depth(path) == 16:
        notes.add(NOTE_16BIT)
    if mode in _ALPHA or (mode == "P" and transparent):
        notes.add(NOTE_ALPHA)
    return ImageInfo(height, width, frozenset(notes))


def read_output(path: Path) -> torch.Tensor:
    """The image as 3 x H x W: uint8 for 8-bit files, float64 in [0, 1] for 16-bit PNGs; alpha dropped."""
    if png_bit_depth(path) == 16:
        return _read_png16(path)
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode == "RGB":
                pixels = np.array(image, dtype=np.uint8)
            else:
                pixels = np.array(image.convert("RGBA"), dtype=np.uint8)[..., :3]
    except _DECODE_ERRORS as err:
        raise _unreadable(path, err) from None
    return torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1)


def _read_png16(path: Path) -> torch.Tensor:
    """torchvision's libpng decoder keeps all 16 bits (it deprecates its image I/O from 0.29, still there)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            from torchvision.io import ImageReadMode, decode_png, read_file
        except ImportError:
            raise ZooError(f"{path} is a 16-bit PNG, which needs torchvision's decode_png (torchvision <= 0.29)") from None
        try:
            decoded = decode_png(read_file(str(path)), mode=ImageReadMode.UNCHANGED)
        except RuntimeError as err:
            raise _unreadable(path, err) from None
    if decoded.shape[0] not in (3, 4):
        raise ZooError(f"{path} is a {decoded.shape[0]}-channel 16-bit PNG; scoring needs RGB images: save the output as RGB")
    return decoded[:3].to(torch.float64) / 65535.0
