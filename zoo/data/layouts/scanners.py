"""One scanner per dataset layout: list a split's folder and form its pairs (no pixels read).

A scanner gets the layout's title (for its messages), not the layout: `table` holds the layouts and
imports the scanners, so nothing here imports `table`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...errors import DatasetError
from .naming import (
    DDN_NAMING,
    DID_NAMING,
    RAIN200_NAMING,
    RAIN800_NAMING,
    SPA_TEST_NAMING,
    Scan,
    list_dir,
    require_dir,
    scan_named,
    scan_side_by_side,
)
from .pairs import Pair


def scan_rain200(title: str, root: Path, split: str, options: Mapping[str, Any]) -> Scan:
    folder = root / split
    rain_dir = Path(options["rain_dir"]) if options["rain_dir"] else folder / "rain"
    if not options["rain_dir"] and (rain_dir / "X2").is_dir() and not list_dir(rain_dir)[0]:
        rain_dir = rain_dir / "X2"
    fix = "put them there or pass rain_dir=<their folder>"
    shared = root.parent / "test" / "rain" / "X2"
    if split == "test" and shared.is_dir():
        fix += f" (the official code reads {shared}, shared by H and L: pass it only if it holds {title}'s)"
    require_dir(rain_dir, f"the {title} {split} rainy images (norain-<i>x2.png)", fix)
    clean_dir = require_dir(folder / "norain", f"the {title} {split} clean images (norain-<i>.png)")
    return scan_named(RAIN200_NAMING.listing(split, options.get("declared")), split, rain_dir, clean_dir)


def scan_rain800(title: str, root: Path, split: str, options: Mapping[str, Any]) -> Scan:
    folder = root / split
    if not (folder / "rain").is_dir() and not (folder / "norain").is_dir():
        return scan_side_by_side(folder, split, options["orientation"], None)
    fix = "put them there (or keep the side-by-side release files directly in the split folder)"
    rain_dir = require_dir(folder / "rain", f"the Rain800 {split} rainy images (rain-001.png)", fix)
    clean_dir = require_dir(folder / "norain", f"the Rain800 {split} clean images (norain-001.png)", fix)
    return scan_named(RAIN800_NAMING, split, rain_dir, clean_dir)


def scan_ddn(title: str, root: Path, split: str, options: Mapping[str, Any]) -> Scan:
    rain_dir = require_dir(root / split / "rain", f"the DDN {split} rainy images (<i>_<j>.jpg)")
    clean_dir = require_dir(root / split / "norain", f"the DDN {split} clean images (<i>.jpg)")
    return scan_named(DDN_NAMING, split, rain_dir, clean_dir)


def scan_did(title: str, root: Path, split: str, options: Mapping[str, Any]) -> Scan:
    return scan_side_by_side(root / split, split, options["orientation"], DID_NAMING)


def scan_spa(title: str, root: Path, split: str, options: Mapping[str, Any]) -> Scan:
    if split == "test":
        fix = "unzip real_test_1000.zip there"
        rain_dir = require_dir(root / "real_test_1000" / "rain", "the SPA test rainy images (000.png)", fix)
        clean_dir = require_dir(root / "real_test_1000" / "gt", "the SPA test clean images (000gt.png)", fix)
        return scan_named(SPA_TEST_NAMING, split, rain_dir, clean_dir)
    gt_root = require_dir(root / "real_world_gt", "the SPA clean patches (<s>/<s>_<x>_<y>.png)", "unzip the release")
    scan = Scan(root / "real_world", "000/000-1/000-1_0_0.png")
    rule = "<s>/<s>-<frame>/<name>_<x>_<y>.png"
    for scene in list_dir(scan.folder)[1]:
        gt_dir = gt_root / scene.name
        gt_names = {path.name for path in list_dir(gt_dir)[0]} if gt_dir.is_dir() else set()
        scan.found_clean += len(gt_names)
        files, frames = list_dir(scene)
        for path in files:
            scan.unexpected(path, rule)
        for path in (path for frame in frames for path in list_dir(frame)[0]):
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


def paired_folder(root: Path, split: str) -> Path | None:
    """`root/<split>`, or `root` itself, whichever holds rain/ or input/ (Rain13K-style test folders do)."""
    for folder in (root / split, root):
        if any((folder / rain).is_dir() for rain, _ in _PAIRED_FOLDERS):
            return folder
    return None


def _clean_stems(stem: str) -> list[str]:
    """Clean-image stems a rainy stem may pair with, most specific first."""
    stems = [stem, stem[:-2]] if stem.endswith("x2") else [stem]
    return stems + ["no" + s for s in stems if s.startswith("rain-")]


def _by_stem(folder: Path, scan: Scan) -> dict[str, Path]:
    """Images of `folder` by stem; two files with one stem (a.png, a.jpg) are a problem."""
    found: dict[str, Path] = {}
    for path in list_dir(folder)[0]:
        if path.stem in found:
            scan.problems.append(f"{path} has the same stem as {found[path.stem]}; keep one of the two files")
        else:
            found[path.stem] = path
    return found


def scan_paired(title: str, root: Path, split: str, options: Mapping[str, Any]) -> Scan:
    folder = paired_folder(root, split) or root / split
    present = [names for names in _PAIRED_FOLDERS if (folder / names[0]).is_dir()]
    if len(present) > 1:
        raise DatasetError(f"{folder} holds both rain/ and input/; keep one pair (rain+norain or input+target)")
    rain_name, clean_name = present[0] if present else _PAIRED_FOLDERS[0]
    fix = "a paired folder needs rain/+norain/ or input/+target/"
    rain_dir = require_dir(Path(options["rain_dir"] or folder / rain_name), "the rainy images", fix)
    clean_dir = require_dir(folder / clean_name, "the clean images", fix)
    scan = Scan(folder, f"{rain_name}/1.png + {clean_name}/1.png")
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
