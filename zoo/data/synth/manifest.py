"""`manifest.csv` of a dataset rendered over photos: one row per pair, with every rain parameter drawn.

The columns are fixed (the most streak layers any domain draws, so rows of every domain line up),
and numbers are written in Python's shortest exact form, so the same run writes the same bytes.
`split`, `rainy` and `clean` come first: the layouts read them to learn how many pairs the folder
lists (`zoo.data.layouts.declared`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..._atomic import atomic_write_text
from ..layouts import MANIFEST, SPLITS, read_manifest
from .cuts import Background, Box
from .domains import DOMAINS
from .draws import RainDraws

LAYER_FIELDS = ("density", "length", "angle", "width", "brightness", "blur")
MAX_LAYERS = max(1 if d.rain_types else len(d.layers) + (d.extra_layers > 0) for d in DOMAINS.values())
COLUMNS = (
    "split", "rainy", "clean", "domain", "background", "cut", "cut_index", "crop_x", "crop_y", "crop_w", "crop_h",
    "seed", "blend", "rain_type", "base_angle", "layers", "extra_layer",
    *(f"layer{k}_{name}" for k in range(1, MAX_LAYERS + 1) for name in LAYER_FIELDS),
    "haze", "airlight", "drops", "splashes", "blur", "noise", "jpeg_clean", "jpeg_rainy",
)  # fmt: skip
# Columns that mark a manifest as written here, so a rerun may replace the files it lists.
OWN_COLUMNS = ("split", "rainy", "clean", "domain", "background")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    return str(value)


def manifest_row(
    split: str, rainy: str, clean: str, domain: str, background: Background, cut: str, cut_index: int,
    box: Box, seed: int, drawn: RainDraws,
) -> dict[str, str]:  # fmt: skip
    """One pair's row: where its files are, what it was cut from, and every value the rain model drew."""
    row: dict[str, object] = {
        "split": split, "rainy": rainy, "clean": clean, "domain": domain, "background": background.name,
        "cut": cut, "cut_index": cut_index, "crop_x": box.x, "crop_y": box.y, "crop_w": box.w, "crop_h": box.h,
        "seed": seed, "blend": drawn.blend, "rain_type": drawn.rain_type, "base_angle": float(drawn.base_angle),
        "layers": len(drawn.layers), "extra_layer": drawn.extra_layer, "haze": drawn.haze, "airlight": drawn.airlight,
        "drops": drawn.drops, "splashes": drawn.splashes, "blur": drawn.blur, "noise": drawn.noise,
        "jpeg_clean": drawn.jpeg_clean, "jpeg_rainy": drawn.jpeg_rainy,
    }  # fmt: skip
    for k, layer in enumerate(drawn.layers, start=1):
        row.update({f"layer{k}_{name}": float(layer[name]) for name in LAYER_FIELDS})
    return {column: _text(row.get(column)) for column in COLUMNS}


def own_rows(folder: Path) -> list[dict[str, str]] | None:
    """The rows of a manifest this module wrote in `folder`, or None when there is none (or another tool's)."""
    rows = read_manifest(folder)
    if rows is None:
        return None
    with open(folder / MANIFEST, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), [])
    return rows if set(OWN_COLUMNS) <= set(header) else None


def write_manifest(folder: Path, rows: Iterable[Mapping[str, str]]) -> Path:
    """Write `folder/manifest.csv` atomically, rows sorted by split (train first), in their order otherwise."""
    ordered = sorted(rows, key=lambda row: SPLITS.index(row["split"]) if row["split"] in SPLITS else len(SPLITS))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore", restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(ordered)
    return atomic_write_text(folder / MANIFEST, buffer.getvalue())
