"""The README's departure ablation: each departure's paired PSNR difference from the official behaviour.

Reads the three stores the departure matrices wrote (`benchmarks/matrices/departures/*.yaml`, tiny
CoIC BRN, default recipe, seeds 0-2) and prints, per departure, the per-seed average PSNR over the
8 synthmix test sets (y-matlab) minus the official run of the same seed, with a 95% t-interval over
seeds. Run: `python benchmarks/departures.py` (after the three `zoo bench` commands of the matrices).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from zoo.results.stats import t_interval
from zoo.results.store import ResultsStore

STORES = Path("leaderboards/departures")
DEPARTURES = ("rain_pool", "per_image_views")


def seed_averages(variant: str) -> pd.Series:
    """Average PSNR over the test sets, per seed, of one variant's store."""
    rows = ResultsStore(STORES / variant).load()
    psnr = rows[(rows["metric"] == "psnr") & (rows["protocol"] == "y-matlab")]
    return psnr.groupby("seed")["value"].mean()


def main() -> None:
    official = seed_averages("official")
    print(f"official: {', '.join(f'seed {s} {v:.2f} dB' for s, v in official.items())}")
    for variant in DEPARTURES:
        paired = (seed_averages(variant) - official).dropna()
        low, high = t_interval(paired.to_numpy())
        print(f"{variant}: {paired.mean():+.2f} dB [{low:+.2f}, {high:+.2f}] (95% t-interval, {len(paired)} seeds)")


if __name__ == "__main__":
    main()
