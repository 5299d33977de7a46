"""Confidence intervals of the paired CoIC − baseline difference, for the leaderboard's gain rows.

The difference is paired: CoIC and baseline runs with the same seed, scored on the same test images.
With per-image scores in the store (`images-*.csv`) the 95% interval is a percentile bootstrap over
seeds and images together: each resample draws the seeds with replacement and, independently, the
images with replacement within each test set, and takes the mean difference (for the average
column: the mean over test sets of each set's mean, as the point estimate is taken). Without them
(stores written before per-image scores existed), it is a Student t-interval over the per-seed
differences. Either way the bootstrap is seeded, so a table is reproducible to the last digit.

The resampling order is fixed, so a direct computation can reproduce it: one generator
`numpy.random.default_rng(seed)`; first the seed draws, `integers(0, S, size=(B, S))`; then, per test
set in column order, the image draws `integers(0, n_set, size=(B, n_set))`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LEVEL = 0.95
RESAMPLES = 2000
SEED = 0
BOOTSTRAP, T_INTERVAL = "bootstrap", "t"
MARKER = "†"  # the interval excludes zero
CI_COLUMNS = ["ci_low", "ci_high", "ci_method", "n_images", "excludes_zero"]


def t_interval(values: np.ndarray | list[float], level: float = LEVEL) -> tuple[float, float]:
    """Student t-interval of the mean of `values`; NaN bounds with fewer than two values."""
    from scipy import stats

    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return float(x.mean() - half), float(x.mean() + half)


def bootstrap_interval(
    diffs: list[np.ndarray], resamples: int = RESAMPLES, seed: int = SEED, level: float = LEVEL
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean paired difference over seeds and images.

    `diffs` holds one seeds x images array per test set (same seeds, in the same order, in every
    array); the statistic is the mean over test sets of each set's mean over seeds and images.
    """
    rng = np.random.default_rng(seed)
    n_seeds = diffs[0].shape[0]
    seed_draws = rng.integers(0, n_seeds, size=(resamples, n_seeds))
    total = np.zeros(resamples)
    for d in diffs:
        image_draws = rng.integers(0, d.shape[1], size=(resamples, d.shape[1]))
        # mean over drawn seeds and drawn images = mean over drawn images of (mean over drawn seeds)
        per_image = d[seed_draws].mean(axis=1)  # resamples x images
        total += np.take_along_axis(per_image, image_draws, axis=1).mean(axis=1)
    means = total / len(diffs)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def excludes_zero(low: float, high: float) -> bool:
    """True when the interval lies wholly above or wholly below zero (NaN bounds: False)."""
    return bool((low > 0 and high > 0) or (low < 0 and high < 0))


def gain_intervals(
    per_seed: pd.DataFrame, per_image: pd.DataFrame | None, datasets: list[str], average: str | None,
    resamples: int = RESAMPLES, seed: int = SEED, level: float = LEVEL,
) -> pd.DataFrame:
    """CI columns (`CI_COLUMNS`) per backbone, config and test set of the gains.

    `per_seed`: backbone, config, eval_dataset, seed, value (the per-seed CoIC − baseline, `average`
    included); `per_image`: backbone, config, eval_dataset, seed, index, value (per-image differences)
    or None. A cell is bootstrapped when every seed of `per_seed` has per-image differences for the
    same images; otherwise it gets the t-interval over seeds.
    """
    out = []
    for (backbone, config, dataset), cell in per_seed.groupby(["backbone", "config", "eval_dataset"], sort=False):
        seeds = sorted(int(s) for s in cell["seed"])
        members = [d for d in datasets if d != average] if dataset == average else [dataset]
        arrays = _image_arrays(per_image, backbone, config, members, seeds)
        if arrays is not None:
            low, high = bootstrap_interval(arrays, resamples, seed, level)
            method, n_images = BOOTSTRAP, sum(a.shape[1] for a in arrays)
        else:
            low, high = t_interval(cell["value"].to_numpy(), level)
            method, n_images = T_INTERVAL, None
        out.append({
            "backbone": backbone, "config": config, "eval_dataset": dataset, "ci_low": low, "ci_high": high,
            "ci_method": method, "n_images": n_images, "excludes_zero": excludes_zero(low, high),
        })
    return pd.DataFrame(out, columns=["backbone", "config", "eval_dataset", *CI_COLUMNS])


def _image_arrays(
    per_image: pd.DataFrame | None, backbone: str, config: str, datasets: list[str], seeds: list[int]
) -> list[np.ndarray] | None:
    """One seeds x images array per test set, or None when any seed lacks an image another has."""
    if per_image is None or per_image.empty:
        return None
    mine = per_image[(per_image["backbone"] == backbone) & (per_image["config"] == config)]
    arrays = []
    for dataset in datasets:
        wide = mine[mine["eval_dataset"] == dataset].pivot_table(index="seed", columns="index", values="value")
        wide = wide.reindex(index=seeds)
        if wide.empty or wide.isna().to_numpy().any():
            return None
        arrays.append(wide.to_numpy(dtype=float))
    return arrays
