"""Two steps timed in alternation, and the ratio of their times taken round by round.

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


def time_pair(
    benchmark,
    group: str,
    first: tuple[str, Callable[[], object]],
    second: tuple[str, Callable[[], object]],
    rounds: int,
    warmup: int = 1,
    target: float | None = None,
) -> PairedResult:
    """Benchmark one round = both steps (alternating which goes first); returns the paired result."""
    times: tuple[list[float], list[float]] = ([], [])
    order = [0]

    def one_round() -> None:
        sequence = (0, 1) if order[0] % 2 == 0 else (1, 0)
        order[0] += 1
        for index in sequence:
            start = time.perf_counter()
            (first, second)[index][1]()
            times[index].append(time.perf_counter() - start)

    benchmark.group = group
    benchmark.pedantic(one_round, rounds=rounds, warmup_rounds=warmup)
    # Warm-up rounds come first; with --benchmark-disable the one round run is all there is.
    a, b = times[0][-rounds:], times[1][-rounds:]
    result = PairedResult(
        group,
        first[0],
        second[0],
        statistics.median(a),
        statistics.median(b),
        statistics.median(y / x for x, y in zip(a, b)),
        target,
    )
    benchmark.extra_info.update(
        {f"{first[0]}_s": result.first_s, f"{second[0]}_s": result.second_s, "paired_ratio": result.ratio}
    )
    RESULTS.append(result)
    return result
