"""How many seeds a CoIC − baseline comparison needs: the power budget of a benchmark matrix.

From a store's per-seed spread of the paired difference on the average column (`boards`' gain rows),
the seeds S needed for a 95% t-interval half-width of at most `target` dB are the smallest S >= 2 with
t(0.975, S - 1) * s / sqrt(S) <= target, where s is the sample std of the per-seed differences seen so
far (an estimate: from 3 seeds it can be off by a factor of 2 either way, so the budget is a plan, and
the regenerated table reports the half-width actually reached). Test images are held fixed across
seeds, so their number does not enter this interval; the bootstrap over images (`stats`) adds their
spread once per-image scores are stored.
"""

from __future__ import annotations

import math

import pandas as pd

from .boards import AVERAGE, GAIN, Leaderboard
from .stats import LEVEL

TARGET_DB = 0.15
MAX_SEEDS = 1000


def seeds_needed(std: float, target: float = TARGET_DB, level: float = LEVEL, most: int = MAX_SEEDS) -> int | None:
    """Smallest number of seeds whose t-interval half-width for a per-seed std `std` is <= `target`; None above `most`."""
    from scipy import stats

    for n in range(2, most + 1):
        if stats.t.ppf(0.5 + level / 2, n - 1) * std / math.sqrt(n) <= target:
            return n
    return None


def power_table(lb: Leaderboard, target: float = TARGET_DB, level: float = LEVEL) -> pd.DataFrame:
    """Per backbone and config of each board's gain rows on the average column: seeds so far, mean
    difference, per-seed std, the half-width reached, and the seeds needed for `target`."""
    rows = []
    for board in lb.boards:
        gains = board.stats[(board.stats["method"] == GAIN) & (board.stats["eval_dataset"] == AVERAGE)]
        for _, gain in gains.iterrows():
            n, std = int(gain["n"]), float(gain["std"])
            low, high = gain.get("ci_low"), gain.get("ci_high")
            half = (float(high) - float(low)) / 2 if pd.notna(low) and pd.notna(high) else float("nan")
            rows.append({
                "backbone": gain["backbone"], "config": gain["config"], "iterations": board.iterations, "seeds": n,
                "mean": float(gain["mean"]), "std": std, "half_width": half,
                "seeds_needed": seeds_needed(std, target, level) if pd.notna(std) else None,
            })
    return pd.DataFrame(rows)
