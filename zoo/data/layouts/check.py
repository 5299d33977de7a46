"""`check_dataset`: decode every file of a split and report counts, sizes and problems, one line each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..._progress import ProgressLike
from ...errors import DatasetError
from ..images import rainy_half_votes, read_rgb, split_side_by_side
from .naming import Scan
from .pairs import Pair, size_mismatch
from .table import count_problem, get_layout, is_partial, scan_layout


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


def _decode_all(pairs: list[Pair], problems: list[str], tick: Callable[[], None]) -> list[tuple[int, int]]:
    """Decode every file once (a DDN clean image serves 14 pairs); return rainy sizes, adding problems.

    `tick` is called after each pair: decoding a 12,000-pair set takes minutes, so the CLI shows a bar.
    """
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
        tick()
        if rainy is None or clean is None:
            continue
        if rainy != clean:
            problems.append(size_mismatch(pair, rainy, clean))
            continue
        sizes.append((rainy[0], rainy[1]))
    return sizes


def _orientation_problem(scan: Scan) -> str | None:
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
    name: str,
    root: str | Path,
    split: str = "train",
    allow_partial: bool = False,
    progress: ProgressLike | None = None,
    **options: Any,
) -> CheckReport:
    """Scan a split fully (names, pairing, counts, decoding, sizes, orientation); data problems are reported.

    Unknown layout, split or option names still raise `UnknownNameError`: those are typos, not data.
    `progress` gets one task per call ("checking NAME SPLIT", one step per pair), removed when done.
    """
    layout = get_layout(name)
    try:
        base, scan, expected = scan_layout(layout, root, split, options)
    except DatasetError as exc:
        expected = options.get("expected") or layout.expected[split]
        return CheckReport(layout.name, split, Path(root), expected, 0, 0, 0, (), None, None, (str(exc),))
    problems = list(scan.problems)
    count = count_problem(layout, split, scan, expected)
    if count and not (allow_partial and is_partial(scan, expected)):
        problems.append(count)
    if progress is None:
        sizes = _decode_all(scan.pairs, problems, lambda: None)
    else:
        task = progress.add_task(f"checking {layout.name} {split}", total=len(scan.pairs))
        sizes = _decode_all(scan.pairs, problems, lambda: progress.update(task, advance=1))
        progress.remove_task(task)
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
