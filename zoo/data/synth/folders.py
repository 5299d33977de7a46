"""The folders `zoo data synth --backgrounds` writes, and taking them over safely when a split is rerun.

`OUT/Rain200L/` holds every chosen domain and `OUT/domains/<domain>/Rain200L/` one domain each, so
`--root OUT` (or `--root OUT/domains/<domain>`) is a root holding a Rain200L folder, as the rain200l
loader expects. Each of those folders carries its own `manifest.csv`. Rerunning a split replaces that
split's files in every one of them and keeps the other split; files this tool did not write are never
deleted: a folder holding images without a manifest of ours, or a file with another name, is refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ..._atomic import remove_stale_temps
from ...errors import ZooError
from ..images import is_image_file
from ..layouts import MANIFEST, RAIN200_NAMING, SPLITS
from .manifest import own_rows, write_manifest

COMBINED = "Rain200L"
DOMAINS_DIR = "domains"
_SIDES = {"rain": RAIN200_NAMING.rain, "norain": RAIN200_NAMING.clean}


def combined_folder(out: Path) -> Path:
    """The dataset folder with every domain's pairs."""
    return out / COMBINED


def domain_folder(out: Path, domain: str) -> Path:
    """The dataset folder with one domain's pairs."""
    return out / DOMAINS_DIR / domain / COMBINED


def _images(folder: Path, splits: Sequence[str]) -> list[tuple[Path, str]]:
    """(image, side) for the images in `folder/<split>/rain` and `/norain`."""
    found = []
    for split in splits:
        for side in _SIDES:
            directory = folder / split / side
            if directory.is_dir():
                found += [(path, side) for path in sorted(directory.iterdir()) if path.is_file() and is_image_file(path)]
    return found


def _not_ours(folder: Path) -> str | None:
    """Why `folder` may not be written into, or None."""
    if (folder / MANIFEST).is_file():
        return f"{folder / MANIFEST} was not written by zoo data synth"
    images = _images(folder, SPLITS)
    if images:
        return f"{folder} already holds images that zoo data synth did not write (such as {images[0][0]})"
    return None


def claim(out: Path, split: str, domains: Sequence[str]) -> dict[Path, list[dict[str, str]]]:
    """Take over the dataset folders for `split`: remove that split's earlier files, keep the other split's rows.

    Returns the rows to keep per folder. Every refusal happens before anything is deleted; the
    manifests are rewritten at once (without `split`'s rows), so a killed run leaves folders still ours.
    """
    folders = [combined_folder(out), *(domain_folder(out, d) for d in domains)]
    if (out / DOMAINS_DIR).is_dir():
        folders += sorted(path for path in (out / DOMAINS_DIR).glob(f"*/{COMBINED}") if path not in folders)
    kept: dict[Path, list[dict[str, str]]] = {}
    stale: list[Path] = []
    for folder in folders:
        rows = own_rows(folder)
        if rows is None:
            reason = _not_ours(folder)
            if reason:
                raise ZooError(f"{reason}; choose an empty or new folder for OUT")
            kept[folder] = []
            continue
        for path, side in _images(folder, (split,)):
            if not re.fullmatch(_SIDES[side], path.name):
                raise ZooError(f"{path} was not written by zoo data synth; move it out of {path.parent} and run again")
            stale.append(path)
        kept[folder] = [row for row in rows if row["split"] != split]
    for path in stale:
        path.unlink()
    for folder, rows in kept.items():
        for side in _SIDES:
            remove_stale_temps(folder / split / side)
        write_manifest(folder, rows)
    return kept
