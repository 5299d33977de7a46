"""Which layout a folder is in, and why: what `zoo data check DIR` checks when no --dataset is given.

A folder holding one folder per dataset (Rain200L/, DDN-Data/, ...) is matched by those folder names,
as before. Any other folder is taken as one dataset folder and matched by its file names, listing
only (no pixels read): each layout's scanner runs on it, and a layout fits when it forms at least
one pair. The folder's own name decides between layouts whose names coincide (Rain200L and Rain200H
name their files alike); otherwise two fitting layouts are an error that names both, since checking
against the wrong one would report the wrong counts. `paired` fits any rain/norain (input/target)
folder, so it is chosen only when no named layout fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...errors import DatasetError, ZooError
from .declared import MANIFEST, declared_pairs
from .pairs import SPLITS, Pair
from .table import ALIASES, LAYOUTS, Layout, find_datasets, get_layout

NO_DATASET = "no known dataset folder found (Rain200L, Rain200H, Rain800, DID, DDN, spa, or rain/ + norain/)"


@dataclass(frozen=True)
class Found:
    """A dataset folder to check: its layout, the splits to check, and why this layout was chosen."""

    name: str
    folder: Path
    splits: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class _Evidence:
    splits: tuple[str, ...]  # splits whose marker folder exists (one, when a folder serves both)
    absent: tuple[str, ...]  # splits without one
    pairs: int
    first: Pair | None


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _evidence(layout: Layout, root: Path) -> _Evidence:
    """What the layout's scanner forms from `root`'s listing, split by split; listing errors count as no pairs."""
    listed = declared_pairs(root) or {}
    splits, absent, pairs, first = [], [], 0, None
    folders: set[Path] = set()
    for split in SPLITS:
        marker = layout.marker(root, split)
        if marker is None:
            absent.append(split)
        if marker is None or marker in folders:  # a paired folder without split folders serves both splits
            continue
        folders.add(marker)
        splits.append(split)
        try:
            scan = layout.scan(layout.title, root, split, {"expected": None, **layout.options, "declared": listed.get(split)})
        except DatasetError:
            continue
        # Rain800's side-by-side release has no fixed names: any folder of images would fit it.
        formed = [pair for pair in scan.pairs if not (layout.name == "rain800" and pair.half)]
        pairs += len(formed)
        first = first or (formed[0] if formed else None)
    return _Evidence(tuple(splits), tuple(absent), pairs, first)


def _example(evidence: _Evidence, root: Path) -> str:
    pair = evidence.first
    if pair is None:
        return "no pairs yet"
    if pair.half:
        return f"{evidence.pairs} side-by-side files like {_relative(pair.rainy, root)} (rainy half {pair.half})"
    return f"{evidence.pairs} pairs like {_relative(pair.rainy, root)} <-> {_relative(pair.clean, root)}"


def _listed_note(folder: Path, absent: tuple[str, ...] = ()) -> str:
    """What the folder's manifest lists, or which splits are absent and so not checked."""
    listed = declared_pairs(folder)
    if not listed:
        return "".join(f"; no {split}/ (not checked)" for split in absent)
    return f"; pairs listed in {MANIFEST}: " + ", ".join(f"{split} {n}" for split, n in listed.items())


def _splits(folder: Path, present: tuple[str, ...] = SPLITS) -> tuple[str, ...]:
    """The splits a manifest lists, else `present`."""
    listed = declared_pairs(folder)
    return tuple(listed) if listed else present


def detect_layout(root: str | Path) -> Found:
    """The one layout that `root`, taken as a single dataset folder, is in; a ZooError when none or several fit."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder; pass the folder that holds the dataset folders (e.g. datasets/)")
    evidence = {name: _evidence(layout, root) for name, layout in LAYOUTS.items()}
    fitting = [name for name, found in evidence.items() if found.pairs and name != "paired"]
    own = ALIASES.get(root.name.casefold())
    if own is not None and own != "paired" and evidence[own].splits and (evidence[own].pairs or not fitting):
        found = evidence[own]
        why = f"the folder is named {root.name}; {_example(found, root)}"
        return Found(own, root, _splits(root, found.splits), why + _listed_note(root, found.absent))
    if len(fitting) > 1:
        each = "; ".join(f"{name}: {_example(evidence[name], root)}" for name in fitting)
        options = " or ".join(f"--dataset {name}" for name in fitting)
        raise ZooError(
            f"{root} fits {len(fitting)} layouts with the same file names ({each}); pass {options} "
            "(or --dataset paired for a folder of your own with these names)"
        )
    if fitting:
        found = evidence[fitting[0]]
        why = f"{_example(found, root)}: {get_layout(fitting[0]).title}'s file names"
        return Found(fitting[0], root, _splits(root, found.splits), why + _listed_note(root, found.absent))
    found = evidence["paired"]
    if found.splits:
        why = f"{_example(found, root)}: rain/ + norain/ (or input/ + target/) paired by file name, no dataset's own names"
        return Found("paired", root, _splits(root, found.splits), why + _listed_note(root, found.absent))
    raise DatasetError(f"{root}: {NO_DATASET}; pass --dataset NAME to check a folder against one layout")


def plan_check(root: str | Path, dataset: str | None = None) -> list[Found]:
    """The dataset folders `zoo data check ROOT [--dataset NAME]` checks, each with its splits and the reason.

    With `dataset`, ROOT is checked against that layout: the splits its manifest lists, else those
    present, else both (so that a folder without either is reported).
    Else the dataset folders under ROOT, matched by folder name; else ROOT itself, by `detect_layout`.
    """
    root = Path(root)
    if dataset is not None:
        layout = get_layout(dataset)
        try:
            child = find_datasets(root).get(layout.name)
        except DatasetError:  # not a folder, or unreadable: check_dataset reports it as the split's problem
            child = None
        markers = {split: layout.marker(root, split) for split in SPLITS}
        folder = child if child is not None and not any(markers.values()) else root
        present = tuple(split for split in SPLITS if layout.marker(folder, split) is not None)
        absent = tuple(split for split in SPLITS if split not in present) if present else ()
        why = f"--dataset {dataset}" + _listed_note(folder, absent)
        return [Found(layout.name, root, _splits(folder, present or SPLITS), why)]
    found = find_datasets(root)
    if found:
        return [
            Found(name, path, _splits(path), f"a folder named {path.name} in {root}" + _listed_note(path))
            for name, path in found.items()
        ]
    return [detect_layout(root)]
