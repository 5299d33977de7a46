"""Steps timed in alternation, and the ratios of their times taken round by round.

pytest-benchmark times each test on its own, one after another, so a ratio of two tests' medians
carries whatever the machine did in between; this machine's speed drifts (the same official step
has run 2.5x slower on one day than another; the same code's paper-BRN modulated / baseline ratio
read 1.35 from sequential tests and 1.22 from an alternating A/B a quarter of an hour later). Here
one benchmark round runs both steps back to back, in alternating order, and the reported ratio is
the median of the per-round ratios. The results are kept in `RESULTS` for the summary that
`benchmarks/conftest.py` prints at the end of the run, and in each benchmark's `extra_info` (so
`--benchmark-json` keeps them).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PairedResult:
    """Medians of two alternated steps and of the per-round ratio second / first."""

    group: str
    first: str
    second: str
    first_s: float
    second_s: float
    ratio: float
    target: float | None

    def line(self) -> str:
        met = (
            ""
            if self.target is None
            else f"  target <= {self.target:g}: {'met' if self.ratio <= self.target else 'NOT met'}"
        )
        return (
            f"{self.group}: {self.second} / {self.first} = {self.ratio:.3f} "
            f"(medians: {self.second} {self.second_s * 1e3:.1f} ms, {self.first} {self.first_s * 1e3:.1f} ms){met}"
        )


RESULTS: list[PairedResult] = []


def time_alternating(
    benchmark,
    group: str,
    steps: list[tuple[str, Callable[[], object]]],
    rounds: int,
    warmup: int = 1,
    targets: dict[str, float] | None = None,
) -> list[PairedResult]:
    """Benchmark one round = every step (order reversed every other round); each step's ratio to the first."""
    times: list[list[float]] = [[] for _ in steps]
    count = [0]

    def one_round() -> None:
        order = range(len(steps)) if count[0] % 2 == 0 else reversed(range(len(steps)))
        count[0] += 1
        for index in order:
            start = time.perf_counter()
            steps[index][1]()
            times[index].append(time.perf_counter() - start)

    benchmark.group = group
    benchmark.pedantic(one_round, rounds=rounds, warmup_rounds=warmup)
    # Warm-up rounds come first; with --benchmark-disable the one round run is all there is.
    kept = [t[-rounds:] for t in times]
    reference = steps[0][0]
    results = []
    for (name, _), measured in zip(steps[1:], kept[1:]):
        ratio = statistics.median(b / a for a, b in zip(kept[0], measured))
        target = (targets or {}).get(name)
        results.append(
            PairedResult(group, reference, name, statistics.median(kept[0]), statistics.median(measured), ratio, target)
        )
        benchmark.extra_info[f"{name}_over_{reference}"] = ratio
    benchmark.extra_info.update({f"{name}_s": statistics.median(t) for (name, _), t in zip(steps, kept)})
    RESULTS.extend(results)
    return results


def time_pair(
    benchmark,
    group: str,
    first: tuple[str, Callable[[], object]],
    second: tuple[str, Callable[[], object]],
    rounds: int,
    warmup: int = 1,
    target: float | None = None,
) -> PairedResult:
    """`time_alternating` for two steps: the ratio second / first."""
    targets = None if target is None else {second[0]: target}
    return time_alternating(benchmark, group, [first, second], rounds, warmup, targets)[0]
