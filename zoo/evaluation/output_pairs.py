"""Pairing a folder of restored images (any method's outputs) with their ground truth, by file name.

Methods name their outputs every which way: the rainy input's name (`norain-1x2.png`,
`rain-001.png`), the clean image's (`norain-1.png`), with a suffix (`1_derained.png`, `1_x1.png`), in
another format (`.jpg` outputs of `.png` inputs). MATLAB scripts pair two sorted listings by
position, which silently mispairs as soon as one file is missing or sorts differently. Here a file
pairs by a key derived from its name (`PAIRING_RULE`, printed by `zoo score`), and anything left over
on either side is an error naming it, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..data.images import IMAGE_SUFFIXES, image_files_in
from ..data.layouts import open_dataset
from ..errors import ZooError

PREFIXES = ("norain", "rainy", "rain", "clean", "gt", "target", "input", "output", "out", "pred", "derained", "restored", "result")
SUFFIXES = (
    "x1", "x2", "x4", "out", "output", "derained", "derain", "pred", "restored", "result", "gt", "clean", "rainy",
    "rain", "norain", "fake", "sr",
)
_PREFIX = re.compile(rf"^(?:{'|'.join(PREFIXES)})[-_](?=.)")
_SUFFIX = re.compile(rf"(?<=.)[-_](?:{'|'.join(SUFFIXES)})$")
_AFTER_NUMBER = re.compile(r"(?<=\d)(?:x2|gt)$")  # Rain200's norain-1x2, SPA-Data's 000gt
PAIRING_RULE = (
    "files pair by name: same stem, any image extension, case ignored; a prefix "
    f"{'/'.join(p + '-' for p in PREFIXES)} (or with _) and a suffix {'/'.join('_' + s for s in SUFFIXES)} "
    "(or with -) are removed, repeatedly, as are 'x2' and 'gt' right after a number (norain-1x2, 000gt); "
    "an all-digit name loses its leading zeros (rain-001 = norain-1)"
)
FIRST_FEW = 3


def pair_key(stem: str) -> str:
    """The name a file pairs by: `pair_key("rain-001") == pair_key("norain-1_derained") == "1"`."""
    key = stem.lower()
    while True:
        shorter = _AFTER_NUMBER.sub("", _SUFFIX.sub("", _PREFIX.sub("", key, count=1), count=1), count=1)
        if shorter == key or not shorter:
            break
        key = shorter
    return str(int(key)) if key.isdigit() else key


@dataclass(frozen=True)
class OutputPair:
    """A prediction file and its ground truth: a file, or the clean half of a side-by-side pair file.

    `half` is the rainy half of such a file (as in `zoo.data.layouts.Pair`), None for separate files;
    `lenient_truth` says the ground truth is a user's folder, read like outputs rather than as a dataset file.
    """

    key: str
    prediction: Path
    truth: Path
    half: str | None = None
    lenient_truth: bool = False

    @property
    def truth_name(self) -> str:
        return str(self.truth) if self.half is None else f"{self.truth} ({'right' if self.half == 'left' else 'left'} half)"


def list_images(folder: Path, role: str) -> list[Path]:
    """The image files directly in `folder` (sorted); a missing, unreadable or image-less folder is one error line."""
    if not folder.is_dir():
        raise ZooError(f"{role} {folder}: no such folder; pass the folder of {role} images")
    found = image_files_in(folder, f"{role} {folder}")
    if not found:
        raise ZooError(f"{role} {folder}: the folder holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); nothing to score")
    return found


def _by_key(files: Iterable[Path], role: str) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in files:
        key = pair_key(path.stem)
        if key in found:
            raise ZooError(
                f"{role} {path.parent}: {found[key].name} and {path.name} both pair as '{key}'; keep one of them "
                "(the pairing rule is printed above)"
            )
        found[key] = path
    return found


def _names(paths: list[Path]) -> str:
    more = f", ... ({len(paths) - FIRST_FEW} more)" if len(paths) > FIRST_FEW else ""
    return ", ".join(p.name for p in paths[:FIRST_FEW]) + more


def unmatched_error(
    extra: list[Path], n_predictions: int, missing: list[Path], n_truths: int, truths: str = "ground-truth images"
) -> ZooError:
    """One line saying how many files on each side found no partner, naming the first few."""
    parts = []
    if extra:
        parts.append(f"{len(extra)} of {n_predictions} predictions have no ground truth ({_names(extra)})")
    if missing:
        parts.append(f"{len(missing)} of {n_truths} {truths} have no prediction ({_names(missing)})")
    return ZooError(f"{' and '.join(parts)}; nothing was scored: rename or remove them (the pairing rule is printed above)")


def pair_folders(predictions: Path, truths: Path) -> list[OutputPair]:
    """Every prediction in `predictions` with its ground truth in `truths`, by `pair_key`; all must pair."""
    pred_files, truth_files = list_images(predictions, "PRED"), list_images(truths, "GT")
    preds, gts = _by_key(pred_files, "PRED"), _by_key(truth_files, "GT")
    extra = [path for key, path in preds.items() if key not in gts]
    missing = [path for key, path in gts.items() if key not in preds]
    if extra or missing:
        raise unmatched_error(extra, len(preds), missing, len(gts))
    return [OutputPair(key, preds[key], gts[key], lenient_truth=True) for key in sorted(gts, key=_natural)]


def pair_dataset(predictions: Path, dataset: str, root: Path, allow_partial: bool = False) -> list[OutputPair]:
    """Every test pair of `dataset` under `root` with its prediction in `predictions`.

    A prediction is named after the pair's rainy image (what `zoo derain` and most test scripts
    write), or after its clean image where that is one clean image per pair (not DDN, whose 14 rainy
    versions share one clean image). Both go through `pair_key`.
    """
    pairs = open_dataset(dataset, root, "test", allow_partial=allow_partial).pairs
    preds = _by_key(list_images(predictions, "PRED"), "PRED")
    clean_count: dict[Path, int] = {}
    for pair in pairs:
        clean_count[pair.clean] = clean_count.get(pair.clean, 0) + 1
    found = {i: pair_key(pair.key.rsplit("/", 1)[-1]) for i, pair in enumerate(pairs)}
    found = {i: key for i, key in found.items() if key in preds}
    used = set(found.values())
    if len(used) < len(found):  # two rainy names that differ only in what the rule removes
        first = next(i for i in found if sum(k == found[i] for k in found.values()) > 1)
        raise ZooError(f"{preds[found[first]]}: more than one {dataset} test pair pairs with it by name; rename the outputs after the rainy images")
    for index, pair in enumerate(pairs):
        key = pair_key(pair.clean.stem)
        if index not in found and pair.half is None and clean_count[pair.clean] == 1 and key in preds and key not in used:
            found[index] = key
            used.add(key)
    extra = [path for key, path in preds.items() if key not in used]
    missing = [pair.rainy for index, pair in enumerate(pairs) if index not in found]
    if extra or missing:
        raise unmatched_error(extra, len(preds), missing, len(pairs), f"{dataset} test pairs (named by their rainy image)")
    # The half holding the clean image is the other one: Pair.half names the rainy half.
    return [OutputPair(found[i], preds[found[i]], pair.clean, pair.half) for i, pair in enumerate(pairs)]


def _natural(key: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key)]
