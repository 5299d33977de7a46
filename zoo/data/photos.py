"""A folder of rainy photos without ground truth (e.g. Internet-Data/RealInt), read lazily.

Such a folder has no clean images, so it is scored with no-reference metrics only
(`zoo evaluate RUN --data noref --root DIR`). Photos are read as datasets are (`read_rgb`: 8-bit
RGB or a one-line error), one at a time, so a folder of large photos never sits in memory whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from .images import IMAGE_SUFFIXES, is_image_file, read_rgb


class PhotoFolder(Sequence[np.ndarray]):
    """The images directly in `root`, sorted by name; item i is photo i as uint8 H x W x 3."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise DatasetError(f"--root {self.root}: no such folder; pass the folder of rainy photos")
        self.paths = sorted(p for p in self.root.iterdir() if p.is_file() and is_image_file(p))
        if not self.paths:
            raise DatasetError(f"--root {self.root}: holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")

    @property
    def name(self) -> str:
        """The test set's name in result rows: the folder's name, lower-cased (`realint`)."""
        return self.root.resolve().name.lower()

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [read_rgb(p) for p in self.paths[index]]
        return read_rgb(self.paths[index])
