"""The README's departure ablation: each departure's paired PSNR difference from the official behaviour.

Reads the three stores the BRN departure matrices wrote (`benchmarks/matrices/departures/*.yaml`, tiny
CoIC BRN, default recipe, seeds 0-2) and prints, per departure, the per-seed average PSNR over the
8 synthmix test sets (y-matlab) minus the official run of the same seed, with a 95% t-interval over
seeds; then RCDNet's contrastive weight, the README command's 0.2 against the script's 50 that the
recipes use (`rcdnet_contrast_weight.yaml` against the powered CPU matrix's cells of the same seeds).
Run: `python benchmarks/departures.py` (after the `zoo bench` commands of the matrices).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from zoo.results.stats import t_interval
from zoo.results.store import ResultsStore

STORES = Path("leaderboards/departures")
DEPARTURES = ("rain_pool", "per_image_views")


def seed_averages(variant: str, store: Path | None = None, backbone: str | None = None, iterations: int | None = None) -> pd.Series:
    """Average PSNR over the test sets, per seed, of one variant's store (or of `store`, narrowed to a
    backbone's CoIC runs at a number of iterations)."""
    rows = ResultsStore(store or STORES / variant).load()
    psnr = rows[(rows["metric"] == "psnr") & (rows["protocol"] == "y-matlab")]
    if backbone is not None:
        iters = pd.to_numeric(psnr["iterations"], errors="coerce")
        psnr = psnr[(psnr["backbone"] == backbone) & (psnr["method"] == "coic") & (psnr["config"] == "tiny") & (iters == iterations)]
    return psnr.groupby("seed")["value"].mean()


def rcdnet_contrast_weight() -> None:
    """RCDNet's contrastive weight 0.2 (the official README command) minus 50 (train_RCDNet.py, ours), paired
    seeds of the powered CPU matrix's tiny RCDNet CoIC cells (200 iterations)."""
    departure = seed_averages("rcdnet_contrast_weight")
    ours = seed_averages("", Path("leaderboards/results"), "rcdnet", 200).reindex(departure.index)
    paired = (departure - ours).dropna()
    low, high = t_interval(paired.to_numpy())
    print(f"rcdnet contrast weight 0.2 vs 50: {paired.mean():+.2f} dB [{low:+.2f}, {high:+.2f}] (95% t-interval, {len(paired)} seeds)")


def main() -> None:
    official = seed_averages("official")
    print(f"official: {', '.join(f'seed {s} {v:.2f} dB' for s, v in official.items())}")
    for variant in DEPARTURES:
        paired = (seed_averages(variant) - official).dropna()
        low, high = t_interval(paired.to_numpy())
        print(f"{variant}: {paired.mean():+.2f} dB [{low:+.2f}, {high:+.2f}] (95% t-interval, {len(paired)} seeds)")
    if (STORES / "rcdnet_contrast_weight").is_dir():
        rcdnet_contrast_weight()


if __name__ == "__main__":
    main()
