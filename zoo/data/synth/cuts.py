"""The user's clean photos as backgrounds: listing them, reading them, and cutting each into boxes.

A photo is used whole (rain rendered at its size), as N x N crops (random positions drawn from the
seed and the photo's file name, or the centre), or as every non-overlapping N x N tile. Positions
depend on the file's name, not its place in the folder, so adding a photo changes no other's crops.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import ZooError
from ..images import IMAGE_SUFFIXES, is_image_file, read_photo
from .domains import SPLITS

# The first word of every seed drawn for photo backgrounds, so their streams never meet synthmix's.
PHOTO_STREAM = 0x70686F74


@dataclass(frozen=True)
class Box:
    """A rectangle of a photo, in pixels: left x, top y, width, height."""

    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Cut:
    """How each photo is cut: `whole`, `crop` (`count` random N x N crops), `centre` (one) or `tile`."""

    mode: str = "whole"
    size: int = 0
    count: int = 1

    @property
    def flag(self) -> str:
        """The command-line option that asked for this cut, for messages."""
        return {"whole": "the whole image", "tile": f"--tile {self.size}"}.get(self.mode, f"--crop {self.size}")

    def boxes(self, h: int, w: int, rng: np.random.Generator) -> list[Box]:
        """The boxes of an h x w photo; the caller has checked that N fits."""
        n = self.size
        if self.mode == "whole":
            return [Box(0, 0, w, h)]
        if self.mode == "centre":
            return [Box((w - n) // 2, (h - n) // 2, n, n)]
        if self.mode == "tile":
            return [Box(x, y, n, n) for y in range(0, h - n + 1, n) for x in range(0, w - n + 1, n)]
        boxes = []
        for _ in range(self.count):
            y = int(rng.integers(0, h - n + 1))
            x = int(rng.integers(0, w - n + 1))
            boxes.append(Box(x, y, n, n))
        return boxes


def make_cut(crop: int | None = None, tile: int | None = None, crops: int = 1, centre: bool = False) -> Cut:
    """The cut that --crop / --tile / --crops / --centre ask for, refusing contradictions in one line."""
    if crop is not None and tile is not None:
        raise ZooError(f"--crop {crop} and --tile {tile} contradict each other; pass one of them (or neither, for whole images)")
    for flag, value in (("--crop", crop), ("--tile", tile), ("--crops", crops)):
        if value is not None and value < 1:
            raise ZooError(f"{flag} {value} must be at least 1")
    if crop is None and (centre or crops != 1):
        raise ZooError(f"{'--centre' if centre else f'--crops {crops}'} needs --crop N")
    if centre and crops != 1:
        raise ZooError(f"--centre takes one crop per photo; drop --crops {crops} or --centre")
    if tile is not None:
        return Cut("tile", tile)
    if crop is not None:
        return Cut("centre" if centre else "crop", crop, crops)
    return Cut()


@dataclass(frozen=True)
class Background:
    """One photo and the boxes cut from it; `name` is its path relative to the backgrounds folder."""

    path: Path
    name: str
    height: int
    width: int
    boxes: tuple[Box, ...]


def name_key(name: str) -> int:
    """A stable 64-bit number for a file name (Python's `hash` changes between runs)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")


def split_id(split: str) -> int:
    if split not in SPLITS:
        raise ZooError(f"unknown split '{split}'; choose from: {', '.join(SPLITS)}")
    return SPLITS[split]


def list_backgrounds(folder: str | Path) -> list[Path]:
    """The image files directly in `folder`, sorted by name; a missing or empty folder is a ZooError."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ZooError(f"--backgrounds {folder}: no such folder; pass a folder of clean photos")
    try:
        paths = sorted(p for p in folder.iterdir() if is_image_file(p) and p.is_file())
    except PermissionError:
        raise ZooError(f"--backgrounds {folder}: cannot list the folder (permission denied); fix its permissions") from None
    if not paths:
        raise ZooError(f"--backgrounds {folder}: holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); put clean photos there")
    return paths


def read_background(path: Path) -> np.ndarray:
    """A photo as float32 H x W x 3 in [0, 1], read as `zoo derain` reads photos (EXIF rotation, any mode)."""
    return np.ascontiguousarray(read_photo(path)[0].permute(1, 2, 0).numpy())


def plan_backgrounds(
    folder: str | Path,
    paths: list[Path],
    cut: Cut,
    seed: int,
    split: str,
    on_read: Callable[[], None] | None = None,
) -> list[Background]:
    """Read every photo of `paths` (from `list_backgrounds(folder)`) and cut it.

    Reading all of them first means a broken or too-small photo is refused before anything is written.
    """
    if seed < 0:
        raise ZooError(f"--seed {seed} must be 0 or more")
    folder = Path(folder)
    planned = []
    for path in paths:
        h, w, _ = read_background(path).shape
        if cut.mode != "whole" and (cut.size > h or cut.size > w):
            raise ZooError(f"{path} is {w}x{h} px, smaller than {cut.flag}; choose a smaller size or move the photo out of {folder}")
        name = path.relative_to(folder).as_posix()
        rng = np.random.default_rng(np.random.SeedSequence([PHOTO_STREAM, seed, split_id(split), name_key(name), 0]))
        planned.append(Background(path, name, h, w, tuple(cut.boxes(h, w, rng))))
        if on_read is not None:
            on_read()
    return planned


def sample_rng(seed: int, split: str, background: str, cut_index: int, domain_id: int) -> np.random.Generator:
    """The rain's random stream for one box of one photo in one domain."""
    entropy = [PHOTO_STREAM, seed, split_id(split), name_key(background), 1, cut_index, domain_id]
    return np.random.default_rng(np.random.SeedSequence(entropy))
