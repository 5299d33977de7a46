"""On-disk layouts of the deraining datasets CoIC trains and tests on, with validation.

File names, id ranges and counts follow the official CoIC `mix_dataset.py` (train) and `test_model.py`
(test), so a folder prepared for the official code opens here unchanged. Pairs are built from parsed
ids, never from the order of two sorted listings, because position pairing mispairs silently when a
file is missing. Opening a dataset validates names, pairing and counts from the listing alone (fast on
12,600-file sets); pixels are checked when a pair is read, and `check_dataset` decodes everything.

Layouts (`root` is the dataset folder ROOT/<Set>; ROOT itself also works, see `find_datasets`):

- rain200l, rain200h: `<split>/rain/norain-{i}x2.png` <-> `<split>/norain/norain-{i}.png`, i = 1..1800 / 1..200.
  The release's `rain/X2/` sub-folder is used when `rain/` holds no images. The official test code reads
  rainy images from one folder shared by H and L (`datasets/test/rain/X2`); pass `rain_dir=` to use it.
- rain800: `<split>/rain/rain-{i:03d}.png` <-> `<split>/norain/norain-{i:03d}.png`, 001..700 / 001..100;
  or the original side-by-side release (image files directly in `<split>/`, rainy half on the right).
- did: `<split>/{i}.jpg`, i = 1..12000 / 1..1200, one side-by-side file per pair (rainy half on the left).
- ddn: `<split>/rain/{i}_{j}.jpg` <-> `<split>/norain/{i}.jpg`, j = 1..14, i = 1..900 / 901..1000.
- spa: train `real_world/<s>/<s>-<frame>/<name>_{x}_{y}.png` <-> `real_world_gt/<s>/<s>_{x}_{y}.png` (scene
  folders listed, not counted from 001); test `real_test_1000/rain/{n:03d}.png` <-> `gt/{n:03d}gt.png`, 000..999.
- paired: `<split>/` (or the root itself) with `rain/`+`norain/` or `input/`+`target/`, paired by stem; a
  rainy stem may end in `x2` or start with `rain-` where the clean one has neither or starts with `norain-`.

A dataset folder holding a `manifest.csv` with `split`, `rainy`, `clean` columns (as `zoo data synth
--backgrounds` writes) lists its own pairs: each split is expected to hold as many as it lists, and
Rain200 ids run 1..that number, so such a folder opens without `allow_partial` (see `declared`).

Options (keyword arguments of `open_dataset` / `check_dataset`): `expected` (int) replaces the expected
number of pairs, for deliberate subsets and tests; `orientation` ("rain_left", "rain_right" or "auto",
which guesses from high-frequency energy) for side-by-side files (did, rain800); `rain_dir` (a folder of
rainy images) for rain200l/h and paired.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import DatasetError, UnknownNameError, ZooError
from .declared import declared_pairs
from .naming import Scan, list_dir
from .pairs import ORIENTATIONS, SPLITS, PairedImages
from .scanners import paired_folder, scan_ddn, scan_did, scan_paired, scan_rain200, scan_rain800, scan_spa


@dataclass(frozen=True)
class Layout:
    """A dataset's names, expected pair counts, option defaults and the folder marking each split."""

    name: str
    title: str
    aliases: tuple[str, ...]
    expected: Mapping[str, int | None]
    scan: Callable[[str, Path, str, Mapping[str, Any]], Scan]  # (title, dataset folder, split, options)
    options: Mapping[str, Any] = field(default_factory=dict)
    markers: Mapping[str, str] = field(default_factory=lambda: {split: split for split in SPLITS})
    # A layout whose split folder is not one fixed name (generic paired folders) finds it itself.
    locate: Callable[[Path, str], Path | None] | None = None
    locate_hint: str = ""

    def marker(self, root: Path, split: str) -> Path | None:
        """The folder whose presence shows that `root` is this dataset's folder for `split`."""
        if self.locate is not None:
            return self.locate(root, split)
        target = root / self.markers[split]
        return target if target.is_dir() else None

    def hint(self, split: str) -> str:
        if self.locate_hint:
            return self.locate_hint.format(split=split)
        return f"{self.markers[split]}/"


LAYOUTS = {
    layout.name: layout
    for layout in (
        Layout("rain200l", "Rain200L", (), {"train": 1800, "test": 200}, scan_rain200, {"rain_dir": None}),
        Layout("rain200h", "Rain200H", (), {"train": 1800, "test": 200}, scan_rain200, {"rain_dir": None}),
        Layout("rain800", "Rain800", (), {"train": 700, "test": 100}, scan_rain800, {"orientation": "rain_right"}),
        Layout(
            "did",
            "DID-Data",
            ("did-data", "rain1200"),
            {"train": 12000, "test": 1200},
            scan_did,
            {"orientation": "rain_left"},
        ),
        Layout("ddn", "DDN-Data", ("ddn-data", "rain1400"), {"train": 12600, "test": 1400}, scan_ddn),
        Layout(
            "spa",
            "SPA-Data",
            ("spa-data",),
            {"train": None, "test": 1000},
            scan_spa,
            markers={"train": "real_world", "test": "real_test_1000"},
        ),
        Layout(
            "paired",
            "paired",
            (),
            dict.fromkeys(SPLITS),
            scan_paired,
            {"rain_dir": None},
            locate=paired_folder,
            locate_hint="{split}/rain/ or {split}/input/ (or those folders directly)",
        ),
    )
}
ALIASES = {alias: layout.name for layout in LAYOUTS.values() for alias in (layout.name, *layout.aliases)}


def dataset_names() -> tuple[str, ...]:
    """The named datasets (every layout but generic paired folders), in the order tables show them."""
    return tuple(name for name, layout in LAYOUTS.items() if layout.locate is None)


def get_layout(name: str) -> Layout:
    canonical = ALIASES.get(str(name).casefold())
    if canonical is None:
        raise UnknownNameError(f"unknown dataset layout '{name}'; known: {', '.join(LAYOUTS)}")
    return LAYOUTS[canonical]


def _options(layout: Layout, split: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """Merge user options over the layout's defaults, refusing names and values the layout does not use."""
    if split not in SPLITS:
        raise UnknownNameError(f"unknown split '{split}' for dataset {layout.name}; use 'train' or 'test'")
    known = {"expected": None, **layout.options}
    for key, value in given.items():
        if key not in known:
            raise UnknownNameError(f"unknown option '{key}' for dataset {layout.name}; known: {', '.join(known)}")
        if key == "orientation" and value not in ORIENTATIONS:
            raise UnknownNameError(f"unknown orientation '{value}'; use one of {', '.join(ORIENTATIONS)}")
        if key == "expected" and value is not None and (type(value) is not int or value < 1):
            raise ZooError(f"expected={value!r} for dataset {layout.name} is not a positive whole number of pairs")
    return {**known, **given}


def find_datasets(root: str | Path) -> dict[str, Path]:
    """Map layout names to the dataset folders directly under `root`, matching folder names case-insensitively.

    Recognised: Rain200L, Rain200H, Rain800, DID (DID-Data, Rain1200), DDN (DDN-Data, Rain1400), spa (SPA-Data).
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder; pass the folder that holds the dataset folders (e.g. datasets/)")
    found: dict[str, Path] = {}
    for child in list_dir(root)[1]:
        name = ALIASES.get(child.name.casefold())
        if name is None or LAYOUTS[name].locate is not None:
            continue
        if name in found:
            raise DatasetError(f"{child} and {found[name]} both look like {LAYOUTS[name].title}; keep one of them")
        found[name] = child
    return found


def _resolve_root(layout: Layout, root: Path, split: str) -> Path:
    """`root` itself when it is the dataset's folder, else the matching dataset folder under it."""
    what = f"the {layout.title} folder holding {layout.hint(split)}"
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder; pass {what}")
    if layout.marker(root, split) is not None:
        return root
    child = find_datasets(root).get(layout.name)
    if child is not None and layout.marker(child, split) is not None:
        return child
    raise DatasetError(f"{root} has no {layout.hint(split)} for {layout.title} {split}; pass {what} (or its parent)")


def scan_layout(layout: Layout, root: str | Path, split: str, given: Mapping[str, Any]) -> tuple[Path, Scan, int | None]:
    """Resolve the root, list the split, and return (dataset folder, scan, expected pair count).

    A dataset folder whose `manifest.csv` lists its pairs (see `declared`) is expected to hold that
    many, named 1..n where a layout numbers its files, instead of the official release's count.
    """
    options = _options(layout, split, given)
    base = _resolve_root(layout, Path(root).expanduser(), split)
    declared = (declared_pairs(base) or {}).get(split)
    scan = layout.scan(layout.title, base, split, {**options, "declared": declared})
    return base, scan, options["expected"] or declared or layout.expected[split]


def count_problem(layout: Layout, split: str, scan: Scan, expected: int | None) -> str | None:
    found = len(scan.pairs)
    what = f"{layout.title} {split} pairs"
    if not found:
        return f"{scan.folder} holds no {what}: expected files like {scan.example}; add them or pass the right root"
    if expected is None or found == expected:
        return None
    if found > expected:
        return f"{scan.folder} holds {found} {what}, more than the {expected} expected; remove the extra files"
    first = f" (first missing pair: {scan.missing[0]})" if scan.missing else ""
    return f"{scan.folder} holds {found} of the {expected} expected {what}{first}"


def is_partial(scan: Scan, expected: int | None) -> bool:
    return expected is not None and 0 < len(scan.pairs) < expected


def open_dataset(
    name: str, root: str | Path, split: str = "train", allow_partial: bool = False, **options: Any
) -> PairedImages:
    """Open a dataset split after checking names, pairing and counts; pixels are checked when read.

    `allow_partial=True` accepts fewer pairs than expected (with a warning naming both counts); files
    that break pairing (a rainy image without its clean one, a stray name) are refused either way.
    """
    layout = get_layout(name)
    base, scan, expected = scan_layout(layout, root, split, options)
    if scan.problems:
        more = len(scan.problems) - 1
        raise DatasetError(scan.problems[0] + (f" (+{more} more; `zoo data check` lists all)" if more else ""))
    problem = count_problem(layout, split, scan, expected)
    if problem is not None:
        if not is_partial(scan, expected):
            raise DatasetError(problem)
        if not allow_partial:
            raise DatasetError(f"{problem}; complete the download or pass allow_partial=True to use the subset")
        warnings.warn(f"{problem}; using the subset (allow_partial=True)", stacklevel=2)
    return PairedImages(layout.name, split, base, scan.pairs)
