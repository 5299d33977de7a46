"""Naming rules: how a dataset's file names map to pair ids, and the listing that applies them."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ...errors import DatasetError
from ..images import is_image_file, rainy_half_votes
from .pairs import Pair


@dataclass
class Scan:
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


def natural_key(path: Path) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def list_dir(folder: Path) -> tuple[list[Path], list[Path]]:
    """Image files and sub-folders of `folder`, each in natural order."""
    files, dirs = [], []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir():
                    dirs.append(Path(entry.path))
                elif is_image_file(Path(entry.name)):
                    files.append(Path(entry.path))
    except PermissionError:
        raise DatasetError(f"{folder} cannot be read (permission denied); ask its owner for read access, or copy the data somewhere readable") from None
    return sorted(files, key=natural_key), sorted(dirs, key=natural_key)


def require_dir(path: Path, what: str, fix: str = "put them there") -> Path:
    if not path.is_dir():
        raise DatasetError(f"{path} is missing: expected {what}; {fix}")
    return path


@dataclass(frozen=True)
class Naming:
    """Official names of a layout: regexes whose group 1 is the clean id (group 2: the rain type)."""

    rain: str
    clean: str
    rain_fmt: str
    clean_fmt: str
    ids: Mapping[str, range]
    types: range = range(1, 2)

    def listing(self, split: str, declared: int | None) -> Naming:
        """These names with ids 1..`declared` in `split`, for a folder whose manifest lists its pairs."""
        if declared is None:
            return self
        return replace(self, ids={**self.ids, split: range(1, declared + 1)})

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


def scan_named(naming: Naming, split: str, rain_dir: Path, clean_dir: Path) -> Scan:
    """Pair two folders by the ids parsed from official names; any other image name is a problem."""
    ids = naming.ids[split]
    scan = Scan(clean_dir.parent, naming.rain_fmt.format(i=ids[0], j=1))
    clean: dict[int, Path] = {}
    for path in list_dir(clean_dir)[0]:
        match = re.fullmatch(naming.clean, path.name)
        if match is None or int(match[1]) not in ids:
            scan.unexpected(path, naming.rule(split, naming.clean_fmt))
        else:
            clean[int(match[1])] = path
    rainy: dict[tuple[int, int], Path] = {}
    for path in list_dir(rain_dir)[0]:
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


def scan_side_by_side(folder: Path, split: str, orientation: str, naming: Naming | None) -> Scan:
    """One file per pair; with `naming`, only official names in the split's id range are accepted."""
    files, dirs = list_dir(folder)
    scan = Scan(folder, naming.rain_fmt.format(i=1) if naming else "1.jpg")
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


RAIN200_NAMING = Naming(
    r"norain-([1-9]\d*)x2\.png",
    r"norain-([1-9]\d*)\.png",
    "norain-{i}x2.png",
    "norain-{i}.png",
    {"train": range(1, 1801), "test": range(1, 201)},
)
RAIN800_NAMING = Naming(
    r"rain-(\d{3})\.png",
    r"norain-(\d{3})\.png",
    "rain-{i:03d}.png",
    "norain-{i:03d}.png",
    {"train": range(1, 701), "test": range(1, 101)},
)
DDN_NAMING = Naming(
    r"([1-9]\d*)_([1-9]\d*)\.jpg",
    r"([1-9]\d*)\.jpg",
    "{i}_{j}.jpg",
    "{i}.jpg",
    {"train": range(1, 901), "test": range(901, 1001)},
    types=range(1, 15),
)
DID_NAMING = Naming(
    r"([1-9]\d*)\.jpg", r"([1-9]\d*)\.jpg", "{i}.jpg", "{i}.jpg", {"train": range(1, 12001), "test": range(1, 1201)}
)
SPA_TEST_NAMING = Naming(r"(\d{3})\.png", r"(\d{3})gt\.png", "{i:03d}.png", "{i:03d}gt.png", {"test": range(1000)})
