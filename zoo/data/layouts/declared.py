"""A dataset folder that lists its own pairs: `manifest.csv` with `split`, `rainy`, `clean` columns.

Official releases have no such file, so their counts come from the layout table (1800 Rain200L
training pairs, ...). A folder made by a tool (`zoo data synth --backgrounds`) is complete by
construction with whatever number of pairs it wrote, so its manifest, not the release's count, says
how many pairs each split must hold and which splits exist; check and open then hold it to that.
"""

from __future__ import annotations

import csv
from pathlib import Path

from ...errors import DatasetError
from .pairs import SPLITS

MANIFEST = "manifest.csv"
LISTED_COLUMNS = ("split", "rainy", "clean")


def read_manifest(folder: str | Path) -> list[dict[str, str]] | None:
    """The rows of `folder/manifest.csv`, or None when there is none or it does not list pairs."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not set(LISTED_COLUMNS) <= set(reader.fieldnames or ()):
                return None
            return list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{path} cannot be read ({exc}); restore it or delete it") from None


def declared_pairs(folder: str | Path) -> dict[str, int] | None:
    """Pairs per split that `folder/manifest.csv` lists (only the splits it lists), or None without one."""
    rows = read_manifest(folder)
    if rows is None:
        return None
    counts = {split: sum(row["split"] == split for row in rows) for split in SPLITS}
    return {split: n for split, n in counts.items() if n}
