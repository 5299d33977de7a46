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

Options (keyword arguments of `open_dataset` / `check_dataset`): `expected` (int) replaces the expected
number of pairs, for deliberate subsets and tests; `orientation` ("rain_left", "rain_right" or "auto",
which guesses from high-frequency energy) for side-by-side files (did, rain800); `rain_dir` (a folder of
rainy images) for rain200l/h and paired.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np
from torch.utils.data import Dataset

from zoo.data.images import is_image_file, rainy_half_votes, read_rgb, split_side_by_side
from zoo.errors import DatasetError, UnknownNameError, ZooError

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


def _size_mismatch(pair: Pair, rainy_shape: tuple[int, ...], clean_shape: tuple[int, ...]) -> str:
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
        raise DatasetError(_size_mismatch(pair, rainy.shape, clean.shape))
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


@dataclass
class _Scan:
    """What a listing found: pairs, always-fatal problems, and the rainy files of expected pairs not formed."""

    folder: Path
    example: str
    pairs: list[Pair] = field(default_factory=list)
    found_rainy: int = 0
    found_clean: int = 0
    problems: list[str] = field(default_factory=list)
    unpaired: list[Path] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)

    def unexpected(self, path: Path, rule: str) -> None:
        self.problems.append(f"{path} does not fit the naming {rule}; rename it or move it out of {path.parent}")
        self.unpaired.append(path)

    def no_clean(self, path: Path, wanted: str) -> None:
        self.problems.append(f"{path} has no clean image: expected {wanted}; restore it or delete the rainy file")
        self.unpaired.append(path)


def _natural(path: Path) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def _list_dir(folder: Path) -> tuple[list[Path], list[Path]]:
    """Image files and sub-folders of `folder`, each in natural order."""
    files, dirs = [], []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir():
                dirs.append(Path(entry.path))
            elif is_image_file(Path(entry.name)):
                files.append(Path(entry.path))
    return sorted(files, key=_natural), sorted(dirs, key=_natural)


def _require_dir(path: Path, what: str, fix: str = "put them there") -> Path:
    if not path.is_dir():
        raise DatasetError(f"{path} is missing: expected {what}; {fix}")
    return path


@dataclass(frozen=True)
class _Naming:
    """Official names of a layout: regexes whose group 1 is the clean id (group 2: the rain type)."""

    rain: str
    clean: str
    rain_fmt: str
    clean_fmt: str
    ids: Mapping[str, range]
    types: range = range(1, 2)

    def rule(self, split: str, fmt: str) -> str:
        ids = self.ids[split]
        return f"{fmt.format(i=ids[0], j=1)} .. {fmt.format(i=ids[-1], j=self.types[-1])}"

    def parse(self, path: Path, split: str) -> tuple[int, int] | None:
        """(id, rain type) of an official rainy name in the split's range, else None."""
        match = re.fullmatch(self.rain, path.name)
        if match is None:
            return None
        key = (int(match[1]), int(match[2]) if match.re.groups > 1 else 1)
        return key if key[0] in self.ids[split] and key[1] in self.types else None

    def missing(self, folder: Path, split: str, present: Mapping[tuple[int, int], Path]) -> list[Path]:
        """Rainy files of the split's official pairs whose key is not in `present`, in id order."""
        keys = ((i, j) for i in self.ids[split] for j in self.types)
        return [folder / self.rain_fmt.format(i=i, j=j) for i, j in keys if (i, j) not in present]


def _scan_named(naming: _Naming, split: str, rain_dir: Path, clean_dir: Path) -> _Scan:
    """Pair two folders by the ids parsed from official names; any other image name is a problem."""
    ids = naming.ids[split]
    scan = _Scan(clean_dir.parent, naming.rain_fmt.format(i=ids[0], j=1))
    clean: dict[int, Path] = {}
    for path in _list_dir(clean_dir)[0]:
        match = re.fullmatch(naming.clean, path.name)
        if match is None or int(match[1]) not in ids:
            scan.unexpected(path, naming.rule(split, naming.clean_fmt))
        else:
            clean[int(match[1])] = path
    rainy: dict[tuple[int, int], Path] = {}
    for path in _list_dir(rain_dir)[0]:
        key = naming.parse(path, split)
        if key is None:
            scan.unexpected(path, naming.rule(split, naming.rain_fmt))
        else:
            rainy[key] = path
    paired: dict[tuple[int, int], Path] = {}
    for key, path in sorted(rainy.items()):
        if key[0] in clean:
            paired[key] = path
            scan.pairs.append(Pair(path, clean[key[0]], path.stem))
        else:
            scan.no_clean(path, str(clean_dir / naming.clean_fmt.format(i=key[0])))
    used = {i for i, _ in rainy}
    scan.unpaired.extend(path for i, path in clean.items() if i not in used)
    scan.found_rainy, scan.found_clean = len(rainy), len(clean)
    scan.missing = naming.missing(rain_dir, split, paired)
    return scan


def guess_orientation(paths: list[Path], sample: int = 16) -> str:
    """Guess "rain_left" or "rain_right" for side-by-side pair files: the rainy half has more fine detail.

    Raises DatasetError when the sampled files split evenly, so a guess is never a coin flip.
    """
    left, right, errors = rainy_half_votes(list(paths), sample)
    if errors and not left + right:
        raise DatasetError(errors[0])
    if left == right:
        raise DatasetError(
            f"{Path(paths[0]).parent}: cannot tell which half is rainy ({left} of {left + right} sampled "
            "files favour the left); look at one file and pass orientation='rain_left' or 'rain_right'"
        )
    return "rain_left" if left > right else "rain_right"


def _scan_side_by_side(folder: Path, split: str, orientation: str, naming: _Naming | None) -> _Scan:
    """One file per pair; with `naming`, only official names in the split's id range are accepted."""
    files, dirs = _list_dir(folder)
    scan = _Scan(folder, naming.rain_fmt.format(i=1) if naming else "1.jpg")
    if not files and any(d.name in ("rain", "norain", "input", "target") for d in dirs):
        raise DatasetError(
            f"{folder} holds rain/norain sub-folders, not side-by-side pair files like {scan.example}; "
            "open it with the 'paired' layout instead"
        )
    accepted: dict[tuple[int, int], Path] = {}
    for index, path in enumerate(files):
        key = naming.parse(path, split) if naming else (index, 1)
        if key is None:
            scan.unexpected(path, naming.rule(split, naming.rain_fmt) if naming else "")
        else:
            accepted[key] = path
    if orientation == "auto" and accepted:
        orientation = guess_orientation(list(accepted.values()))
    half = "left" if orientation == "rain_left" else "right"
    scan.pairs = [Pair(path, path, path.stem, half) for _, path in sorted(accepted.items())]
    scan.found_rainy = scan.found_clean = len(accepted)
    scan.missing = naming.missing(folder, split, accepted) if naming else []
    return scan


_RAIN200 = _Naming(
    r"norain-([1-9]\d*)x2\.png",
    r"norain-([1-9]\d*)\.png",
    "norain-{i}x2.png",
    "norain-{i}.png",
    {"train": range(1, 1801), "test": range(1, 201)},
)
_RAIN800 = _Naming(
    r"rain-(\d{3})\.png",
    r"norain-(\d{3})\.png",
    "rain-{i:03d}.png",
    "norain-{i:03d}.png",
    {"train": range(1, 701), "test": range(1, 101)},
)
_DDN = _Naming(
    r"([1-9]\d*)_([1-9]\d*)\.jpg",
    r"([1-9]\d*)\.jpg",
    "{i}_{j}.jpg",
    "{i}.jpg",
    {"train": range(1, 901), "test": range(901, 1001)},
    types=range(1, 15),
)
_DID = _Naming(
    r"([1-9]\d*)\.jpg", r"([1-9]\d*)\.jpg", "{i}.jpg", "{i}.jpg", {"train": range(1, 12001), "test": range(1, 1201)}
)
_SPA_TEST = _Naming(r"(\d{3})\.png", r"(\d{3})gt\.png", "{i:03d}.png", "{i:03d}gt.png", {"test": range(1000)})


def _scan_rain200(layout: _Layout, root: Path, split: str, options: Mapping[str, Any]) -> _Scan:
    folder = root / split
    rain_dir = Path(options["rain_dir"]) if options["rain_dir"] else folder / "rain"
    if not options["rain_dir"] and (rain_dir / "X2").is_dir() and not _list_dir(rain_dir)[0]:
        rain_dir = rain_dir / "X2"
    fix = "put them there or pass rain_dir=<their folder>"
    shared = root.parent / "test" / "rain" / "X2"
    if split == "test" and shared.is_dir():
        fix += f" (the official code reads {shared}, shared by H and L: pass it only if it holds {layout.title}'s)"
    _require_dir(rain_dir, f"the {layout.title} {split} rainy images (norain-<i>x2.png)", fix)
    clean_dir = _require_dir(folder / "norain", f"the {layout.title} {split} clean images (norain-<i>.png)")
    return _scan_named(_RAIN200, split, rain_dir, clean_dir)


def _scan_rain800(layout: _Layout, root: Path, split: str, options: Mapping[str, Any]) -> _Scan:
    folder = root / split
    if not (folder / "rain").is_dir() and not (folder / "norain").is_dir():
        return _scan_side_by_side(folder, split, options["orientation"], None)
    fix = "put them there (or keep the side-by-side release files directly in the split folder)"
    rain_dir = _require_dir(folder / "rain", f"the Rain800 {split} rainy images (rain-001.png)", fix)
    clean_dir = _require_dir(folder / "norain", f"the Rain800 {split} clean images (norain-001.png)", fix)
    return _scan_named(_RAIN800, split, rain_dir, clean_dir)


def _scan_ddn(layout: _Layout, root: Path, split: str, options: Mapping[str, Any]) -> _Scan:
    rain_dir = _require_dir(root / split / "rain", f"the DDN {split} rainy images (<i>_<j>.jpg)")
    clean_dir = _require_dir(root / split / "norain", f"the DDN {split} clean images (<i>.jpg)")
    return _scan_named(_DDN, split, rain_dir, clean_dir)


def _scan_did(layout: _Layout, root: Path, split: str, options: Mapping[str, Any]) -> _Scan:
    return _scan_side_by_side(root / split, split, options["orientation"], _DID)


def _scan_spa(layout: _Layout, root: Path, split: str, options: Mapping[str, Any]) -> _Scan:
    if split == "test":
        fix = "unzip real_test_1000.zip there"
        rain_dir = _require_dir(root / "real_test_1000" / "rain", "the SPA test rainy images (000.png)", fix)
        clean_dir = _require_dir(root / "real_test_1000" / "gt", "the SPA test clean images (000gt.png)", fix)
        return _scan_named(_SPA_TEST, split, rain_dir, clean_dir)
    gt_root = _require_dir(root / "real_world_gt", "the SPA clean patches (<s>/<s>_<x>_<y>.png)", "unzip the release")
    scan = _Scan(root / "real_world", "000/000-1/000-1_0_0.png")
    rule = "<s>/<s>-<frame>/<name>_<x>_<y>.png"
    for scene in _list_dir(scan.folder)[1]:
        gt_dir = gt_root / scene.name
        gt_names = {path.name for path in _list_dir(gt_dir)[0]} if gt_dir.is_dir() else set()
        scan.found_clean += len(gt_names)
        files, frames = _list_dir(scene)
        for path in files:
            scan.unexpected(path, rule)
        for path in (path for frame in frames for path in _list_dir(frame)[0]):
            scan.found_rainy += 1
            parts = path.stem.split("_")
            if len(parts) < 3 or not (parts[-2].isdigit() and parts[-1].isdigit() and path.suffix == ".png"):
                scan.unexpected(path, rule)
                continue
            clean = gt_dir / f"{scene.name}_{parts[-2]}_{parts[-1]}.png"
            if clean.name in gt_names:
                scan.pairs.append(Pair(path, clean, f"{scene.name}/{path.parent.name}/{path.stem}"))
            else:
                scan.no_clean(path, str(clean))
    return scan


_PAIRED_FOLDERS = (("rain", "norain"), ("input", "target"))


def _paired_folder(root: Path, split: str) -> Path | None:
    """`root/<split>`, or `root` itself, whichever holds rain/ or input/ (Rain13K-style test folders do)."""
    for folder in (root / split, root):
        if any((folder / rain).is_dir() for rain, _ in _PAIRED_FOLDERS):
            return folder
    return None


def _clean_stems(stem: str) -> list[str]:
    """Clean-image stems a rainy stem may pair with, most specific first."""
    stems = [stem, stem[:-2]] if stem.endswith("x2") else [stem]
    return stems + ["no" + s for s in stems if s.startswith("rain-")]


def _by_stem(folder: Path, scan: _Scan) -> dict[str, Path]:
    """Images of `folder` by stem; two files with one stem (a.png, a.jpg) are a problem."""
    found: dict[str, Path] = {}
    for path in _list_dir(folder)[0]:
        if path.stem in found:
            scan.problems.append(f"{path} has the same stem as {found[path.stem]}; keep one of the two files")
        else:
            found[path.stem] = path
    return found


def _scan_paired(layout: _Layout, root: Path, split: str, options: Mapping[str, Any]) -> _Scan:
    folder = _paired_folder(root, split) or root / split
    present = [names for names in _PAIRED_FOLDERS if (folder / names[0]).is_dir()]
    if len(present) > 1:
        raise DatasetError(f"{folder} holds both rain/ and input/; keep one pair (rain+norain or input+target)")
    rain_name, clean_name = present[0] if present else _PAIRED_FOLDERS[0]
    fix = "a paired folder needs rain/+norain/ or input/+target/"
    rain_dir = _require_dir(Path(options["rain_dir"] or folder / rain_name), "the rainy images", fix)
    clean_dir = _require_dir(folder / clean_name, "the clean images", fix)
    scan = _Scan(folder, f"{rain_name}/1.png + {clean_name}/1.png")
    clean, rainy = _by_stem(clean_dir, scan), _by_stem(rain_dir, scan)
    used: set[str] = set()
    for stem, path in rainy.items():
        match = next((candidate for candidate in _clean_stems(stem) if candidate in clean), None)
        if match is None:
            scan.no_clean(path, " or ".join(f"{clean_dir / candidate}.*" for candidate in _clean_stems(stem)))
        else:
            used.add(match)
            scan.pairs.append(Pair(path, clean[match], stem))
    scan.found_rainy, scan.found_clean = len(rainy), len(clean)
    scan.unpaired.extend(path for stem, path in clean.items() if stem not in used)
    return scan


@dataclass(frozen=True)
class _Layout:
    """A dataset's names, expected pair counts, option defaults and the folder marking each split."""

    name: str
    title: str
    aliases: tuple[str, ...]
    expected: Mapping[str, int | None]
    scan: Callable[[_Layout, Path, str, Mapping[str, Any]], _Scan]
    options: Mapping[str, Any] = field(default_factory=dict)
    markers: Mapping[str, str] = field(default_factory=lambda: {split: split for split in SPLITS})

    def marker(self, root: Path, split: str) -> Path | None:
        """The folder whose presence shows that `root` is this dataset's folder for `split`."""
        if self.name == "paired":
            return _paired_folder(root, split)
        target = root / self.markers[split]
        return target if target.is_dir() else None

    def hint(self, split: str) -> str:
        if self.name == "paired":
            return f"{split}/rain/ or {split}/input/ (or those folders directly)"
        return f"{self.markers[split]}/"


_LAYOUTS = {
    layout.name: layout
    for layout in (
        _Layout("rain200l", "Rain200L", (), {"train": 1800, "test": 200}, _scan_rain200, {"rain_dir": None}),
        _Layout("rain200h", "Rain200H", (), {"train": 1800, "test": 200}, _scan_rain200, {"rain_dir": None}),
        _Layout("rain800", "Rain800", (), {"train": 700, "test": 100}, _scan_rain800, {"orientation": "rain_right"}),
        _Layout(
            "did",
            "DID-Data",
            ("did-data", "rain1200"),
            {"train": 12000, "test": 1200},
            _scan_did,
            {"orientation": "rain_left"},
        ),
        _Layout("ddn", "DDN-Data", ("ddn-data", "rain1400"), {"train": 12600, "test": 1400}, _scan_ddn),
        _Layout(
            "spa",
            "SPA-Data",
            ("spa-data",),
            {"train": None, "test": 1000},
            _scan_spa,
            markers={"train": "real_world", "test": "real_test_1000"},
        ),
        _Layout("paired", "paired", (), dict.fromkeys(SPLITS), _scan_paired, {"rain_dir": None}),
    )
}
_ALIASES = {alias: layout.name for layout in _LAYOUTS.values() for alias in (layout.name, *layout.aliases)}


def list_layouts() -> list[str]:
    """Names accepted by `open_dataset` (aliases such as "DID-Data" or "Rain1400" work too)."""
    return list(_LAYOUTS)


def _layout(name: str) -> _Layout:
    canonical = _ALIASES.get(str(name).casefold())
    if canonical is None:
        raise UnknownNameError(f"unknown dataset layout '{name}'; known: {', '.join(_LAYOUTS)}")
    return _LAYOUTS[canonical]


def _options(layout: _Layout, split: str, given: Mapping[str, Any]) -> dict[str, Any]:
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
    for child in _list_dir(root)[1]:
        name = _ALIASES.get(child.name.casefold())
        if name is None or name == "paired":
            continue
        if name in found:
            raise DatasetError(f"{child} and {found[name]} both look like {_LAYOUTS[name].title}; keep one of them")
        found[name] = child
    return found


def _resolve_root(layout: _Layout, root: Path, split: str) -> Path:
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


def _scan(layout: _Layout, root: str | Path, split: str, given: Mapping[str, Any]) -> tuple[Path, _Scan, int | None]:
    """Resolve the root, list the split, and return (dataset folder, scan, expected pair count)."""
    options = _options(layout, split, given)
    base = _resolve_root(layout, Path(root).expanduser(), split)
    return base, layout.scan(layout, base, split, options), options["expected"] or layout.expected[split]


def _count_problem(layout: _Layout, split: str, scan: _Scan, expected: int | None) -> str | None:
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


def _is_partial(scan: _Scan, expected: int | None) -> bool:
    return expected is not None and 0 < len(scan.pairs) < expected


def open_dataset(
    name: str, root: str | Path, split: str = "train", allow_partial: bool = False, **options: Any
) -> PairedImages:
    """Open a dataset split after checking names, pairing and counts; pixels are checked when read.

    `allow_partial=True` accepts fewer pairs than expected (with a warning naming both counts); files
    that break pairing (a rainy image without its clean one, a stray name) are refused either way.
    """
    layout = _layout(name)
    base, scan, expected = _scan(layout, root, split, options)
    if scan.problems:
        more = len(scan.problems) - 1
        raise DatasetError(scan.problems[0] + (f" (+{more} more; `zoo data check` lists all)" if more else ""))
    problem = _count_problem(layout, split, scan, expected)
    if problem is not None:
        if not _is_partial(scan, expected):
            raise DatasetError(problem)
        if not allow_partial:
            raise DatasetError(f"{problem}; complete the download or pass allow_partial=True to use the subset")
        warnings.warn(f"{problem}; using the subset (allow_partial=True)", stacklevel=2)
    return PairedImages(layout.name, split, base, scan.pairs)


@dataclass(frozen=True)
class CheckReport:
    """Outcome of `check_dataset`: counts, pairing, sizes ((height, width) of rainy images) and problems.

    Every problem is one self-contained line naming a path and the fix, ready for `zoo data check`.
    """

    name: str
    split: str
    root: Path
    expected: int | None
    found_rainy: int
    found_clean: int
    pairs: int
    unpaired: tuple[Path, ...]
    size_min: tuple[int, int] | None
    size_max: tuple[int, int] | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when the split can be used as is."""
        return not self.problems

    def summary(self) -> str:
        """One line for a CLI table: counts, size range and the verdict."""
        counts = f"{self.pairs}/{self.expected} pairs" if self.expected else f"{self.pairs} pairs"
        sizes = ""
        if self.size_min and self.size_max:
            sizes = f", {self.size_min[1]}x{self.size_min[0]} to {self.size_max[1]}x{self.size_max[0]} px"
        verdict = "ok" if self.ok else f"{len(self.problems)} problem(s)"
        return f"{self.name} {self.split} at {self.root}: {counts}, {len(self.unpaired)} unpaired{sizes}: {verdict}"


def _decode_all(pairs: list[Pair], problems: list[str]) -> list[tuple[int, int]]:
    """Decode every file once (a DDN clean image serves 14 pairs); return rainy sizes, adding problems."""
    shapes: dict[Path, tuple[int, ...] | None] = {}

    def shape(path: Path, half: str | None) -> tuple[int, ...] | None:
        if path not in shapes:
            try:
                pixels = read_rgb(path)
                shapes[path] = split_side_by_side(pixels, half, path)[0].shape if half else pixels.shape
            except DatasetError as exc:
                problems.append(str(exc))
                shapes[path] = None
        return shapes[path]

    sizes = []
    for pair in pairs:
        rainy = shape(pair.rainy, pair.half)
        clean = rainy if pair.half else shape(pair.clean, None)
        if rainy is None or clean is None:
            continue
        if rainy != clean:
            problems.append(_size_mismatch(pair, rainy, clean))
            continue
        sizes.append((rainy[0], rainy[1]))
    return sizes


def _orientation_problem(scan: _Scan) -> str | None:
    """Compare the configured rainy half of side-by-side files with the half that looks rainier."""
    if not scan.pairs or scan.pairs[0].half is None:
        return None
    left, right, _ = rainy_half_votes([pair.rainy for pair in scan.pairs])
    configured = scan.pairs[0].half
    if left == right:
        return (
            f"{scan.folder}: cannot confirm that the rainy half is the {configured} one ({left} of "
            f"{left + right} sampled files favour the left); look at one file by eye"
        )
    guessed, votes = ("left", left) if left > right else ("right", right)
    if guessed == configured:
        return None
    return (
        f"{scan.folder}: the {guessed} half looks rainier in {votes} of {left + right} sampled files, but "
        f"orientation is rain_{configured}; look at one file and pass orientation='rain_{guessed}' if so"
    )


def _extreme(sizes: list[tuple[int, int]], pick: Callable[..., int]) -> tuple[int, int] | None:
    """Smallest (or largest) height and width, each taken separately."""
    return (pick(h for h, _ in sizes), pick(w for _, w in sizes)) if sizes else None


def check_dataset(
    name: str, root: str | Path, split: str = "train", allow_partial: bool = False, **options: Any
) -> CheckReport:
    """Scan a split fully (names, pairing, counts, decoding, sizes, orientation); data problems are reported.

    Unknown layout, split or option names still raise `UnknownNameError`: those are typos, not data.
    """
    layout = _layout(name)
    try:
        base, scan, expected = _scan(layout, root, split, options)
    except DatasetError as exc:
        expected = options.get("expected") or layout.expected[split]
        return CheckReport(layout.name, split, Path(root), expected, 0, 0, 0, (), None, None, (str(exc),))
    problems = list(scan.problems)
    count = _count_problem(layout, split, scan, expected)
    if count and not (allow_partial and _is_partial(scan, expected)):
        problems.append(count)
    sizes = _decode_all(scan.pairs, problems)
    orientation = _orientation_problem(scan)
    if orientation:
        problems.append(orientation)
    return CheckReport(
        layout.name,
        split,
        base,
        expected,
        scan.found_rainy,
        scan.found_clean,
        len(scan.pairs),
        tuple(scan.unpaired),
        _extreme(sizes, min),
        _extreme(sizes, max),
        tuple(problems),
    )
