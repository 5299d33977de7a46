"""A dataset split as pairs of files: `Pair`, reading one pair, and `PairedImages`, the dataset."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import overload

import numpy as np
from torch.utils.data import Dataset

from ...errors import DatasetError
from ..images import read_rgb, split_side_by_side

SPLITS = ("train", "test")
ORIENTATIONS = ("rain_left", "rain_right", "auto")


@dataclass(frozen=True)
class Pair:
    """One rainy/clean pair.

    `key` is unique within a split and stable across runs, so outputs and per-image scores can be named
    by it. `half` is the half ("left"/"right") of a side-by-side file that holds the rainy image; it is
    None when rainy and clean are separate files.
    """

    rainy: Path
    clean: Path
    key: str
    half: str | None = None


def size_mismatch(pair: Pair, rainy_shape: tuple[int, ...], clean_shape: tuple[int, ...]) -> str:
    return (
        f"{pair.rainy} is {rainy_shape[1]}x{rainy_shape[0]} px but its clean image {pair.clean} is "
        f"{clean_shape[1]}x{clean_shape[0]}; a pair must have one size: re-extract both from the release"
    )


def read_pair(pair: Pair) -> tuple[np.ndarray, np.ndarray]:
    """Decode one pair as (rainy, clean) uint8 RGB arrays of equal shape, raising a one-line DatasetError."""
    if pair.half is not None:
        return split_side_by_side(read_rgb(pair.rainy), pair.half, pair.rainy)
    rainy, clean = read_rgb(pair.rainy), read_rgb(pair.clean)
    if rainy.shape != clean.shape:
        raise DatasetError(size_mismatch(pair, rainy.shape, clean.shape))
    return rainy, clean


class PairedImages(Dataset[tuple[np.ndarray, np.ndarray]]):
    """A validated list of pairs; item i is (rainy, clean) as full-size uint8 HxWx3 RGB arrays.

    Slicing returns a PairedImages over the selected pairs, so subsets keep the name/split metadata.
    """

    def __init__(self, name: str, split: str, root: Path, pairs: list[Pair]) -> None:
        self.name = name
        self.split = split
        self.root = root
        self.pairs = pairs

    def __len__(self) -> int:
        return len(self.pairs)

    @overload
    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]: ...

    @overload
    def __getitem__(self, index: slice) -> PairedImages: ...

    def __getitem__(self, index: int | slice) -> tuple[np.ndarray, np.ndarray] | PairedImages:
        if isinstance(index, slice):
            return PairedImages(self.name, self.split, self.root, self.pairs[index])
        return read_pair(self.pairs[index])

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        return (read_pair(pair) for pair in self.pairs)

    def __repr__(self) -> str:
        return f"PairedImages(name={self.name!r}, split={self.split!r}, root={str(self.root)!r}, pairs={len(self)})"
