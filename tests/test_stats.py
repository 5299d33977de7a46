"""Confidence intervals of the paired CoIC − baseline difference, checked against direct computations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats

from zoo.evaluation.records import image_rows, make_row
from zoo.results import stats
from zoo.results.boards import AVERAGE, GAIN, build
from zoo.results.render import render
from zoo.results.store import ResultsStore

SEEDS, DATASETS, IMAGES = (0, 1, 2), ("light", "heavy"), 5


def _scores(backbone: str, shift: float, noise: float) -> dict[tuple[str, int, str], np.ndarray]:
    """(method, seed, dataset) -> per-image PSNR; CoIC = baseline + shift + noise."""
    rng = np.random.default_rng(sum(map(ord, backbone)))
    out = {}
    for seed in SEEDS:
        for k, dataset in enumerate(DATASETS):
            base = 25 + k + rng.normal(0, 1, IMAGES)
            out[("baseline", seed, dataset)] = base
            out[("coic", seed, dataset)] = base + shift + rng.normal(0, noise, IMAGES)
    return out


def _store(root: Path, backbones: dict[str, tuple[float, float]], with_images: bool = True) -> dict:
    store, everything = ResultsStore(root), {}
    for backbone, (shift, noise) in backbones.items():
        scores = _scores(backbone, shift, noise)
        everything[backbone] = scores
        for method in ("baseline", "coic"):
            for seed in SEEDS:
                run = f"{backbone}-tiny-synthmix-{method}-s{seed}"
                rows, per_image = [], {}
                for dataset in DATASETS:
                    psnr = scores[(method, seed, dataset)]
                    per_image[dataset] = [{"index": i, "psnr": float(v), "ssim": 0.9} for i, v in enumerate(psnr)]
                    rows.append(make_row(
                        run=run, backbone=backbone, config="tiny", method=method, train_data="synthmix",
                        eval_dataset=dataset, metric="psnr", protocol="y-matlab", value=float(psnr.mean()),
                        n_images=IMAGES, iterations=10, seed=seed, source="measured",
                    ))
                store.append(rows, image_rows(rows, per_image) if with_images else None)
    return everything


def _diffs(scores: dict, dataset: str) -> np.ndarray:
    return np.stack([scores[("coic", s, dataset)] - scores[("baseline", s, dataset)] for s in SEEDS])


def _direct_bootstrap(per_set: list[np.ndarray], resamples: int, seed: int) -> tuple[float, float]:
    """The documented resampling, written as plain loops."""
    rng = np.random.default_rng(seed)
    n_seeds = per_set[0].shape[0]
    seed_draws = rng.integers(0, n_seeds, size=(resamples, n_seeds))
    image_draws = [rng.integers(0, d.shape[1], size=(resamples, d.shape[1])) for d in per_set]
    means = []
    for b in range(resamples):
        set_means = []
        for d, draws in zip(per_set, image_draws):
            values = [d[s, i] for s in seed_draws[b] for i in draws[b]]
            set_means.append(np.mean(values))
        means.append(np.mean(set_means))
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def _gain(lb, backbone: str, dataset: str):
    s = lb.boards[0].stats
    return s[(s["backbone"] == backbone) & (s["method"] == GAIN) & (s["eval_dataset"] == dataset)].iloc[0]


def test_bootstrap_interval_of_a_stored_paired_difference_matches_a_direct_computation(tmp_path: Path) -> None:
    scores = _store(tmp_path, {"brn": (0.3, 0.2)})["brn"]
    lb = build(tmp_path)
    for dataset, members in (("heavy", ["heavy"]), (AVERAGE, list(DATASETS))):
        cell = _gain(lb, "brn", dataset)
        low, high = _direct_bootstrap([_diffs(scores, d) for d in members], stats.RESAMPLES, stats.SEED)
        assert cell["ci_method"] == stats.BOOTSTRAP
        assert cell["n_images"] == IMAGES * len(members)
        assert cell["ci_low"] == pytest.approx(low, abs=1e-9) and cell["ci_high"] == pytest.approx(high, abs=1e-9)
        point = np.mean([_diffs(scores, d).mean() for d in members])
        assert cell["mean"] == pytest.approx(point, abs=1e-9) and low < point < high


def test_t_interval_over_seeds_when_the_store_has_no_per_image_scores(tmp_path: Path) -> None:
    scores = _store(tmp_path, {"brn": (0.3, 0.2)}, with_images=False)["brn"]
    cell = _gain(build(tmp_path), "brn", "light")
    per_seed = _diffs(scores, "light").mean(axis=1)
    half = scipy_stats.t.ppf(0.975, len(SEEDS) - 1) * per_seed.std(ddof=1) / np.sqrt(len(SEEDS))
    assert cell["ci_method"] == stats.T_INTERVAL
    assert cell["ci_low"] == pytest.approx(per_seed.mean() - half) and cell["ci_high"] == pytest.approx(per_seed.mean() + half)
    assert "t-interval over seeds" in " ".join(build(tmp_path).boards[0].captions())


def test_marker_only_where_the_interval_excludes_zero(tmp_path: Path) -> None:
    # brn: a clear +1 dB gain; dgunet: no gain, much noise
    _store(tmp_path, {"brn": (1.0, 0.05), "dgunet": (0.0, 1.5)})
    lb = build(tmp_path)
    gains = lb.boards[0].stats[lb.boards[0].stats["method"] == GAIN]
    for _, cell in gains.iterrows():
        assert cell["excludes_zero"] == (cell["ci_low"] > 0 or cell["ci_high"] < 0)
    assert gains[gains["backbone"] == "brn"]["excludes_zero"].all()
    assert not gains[gains["backbone"] == "dgunet"]["excludes_zero"].any()
    text = render(lb, "md")
    gain_lines = {line.split("|")[1].strip(): line for line in text.splitlines() if "CoIC − baseline |" in line}
    assert gain_lines["brn"].count(stats.MARKER) == len(DATASETS) + 1
    assert stats.MARKER not in gain_lines["dgunet"]
    assert stats.MARKER not in "".join(line for line in text.splitlines() if "| baseline |" in line or "| CoIC |" in line)
    assert "bootstrap over seeds and images" in text and f"{stats.RESAMPLES} resamples" in text
    assert "| seeds | images |" in text and "| 3 | 5 |" in text


def test_excludes_zero_edges() -> None:
    assert stats.excludes_zero(0.1, 0.2) and stats.excludes_zero(-0.2, -0.1)
    assert not stats.excludes_zero(-0.1, 0.2) and not stats.excludes_zero(0.0, 0.2)
    assert not stats.excludes_zero(float("nan"), float("nan"))
    assert np.isnan(stats.t_interval([1.0])[0])


def test_old_stores_without_image_files_still_load(tmp_path: Path) -> None:
    _store(tmp_path, {"brn": (0.3, 0.2)}, with_images=False)
    assert ResultsStore(tmp_path).load_images().empty
    assert len(ResultsStore(tmp_path).load()) == 2 * len(SEEDS) * len(DATASETS)


def test_seeds_needed_is_the_smallest_count_meeting_the_half_width() -> None:
    from zoo.results.power import seeds_needed

    def half(n: int, std: float) -> float:
        return scipy_stats.t.ppf(0.975, n - 1) * std / np.sqrt(n)

    for std in (0.01, 0.0677, 0.2529, 1.088):
        n = seeds_needed(std, 0.15)
        assert n is not None and half(n, std) <= 0.15 and (n == 2 or half(n - 1, std) > 0.15)
    assert seeds_needed(50.0, 0.15, most=10) is None


def test_power_table_reads_the_average_gain_of_each_backbone(tmp_path: Path) -> None:
    from zoo.results.power import power_table

    scores = _store(tmp_path, {"brn": (0.3, 0.2)}, with_images=False)["brn"]
    row = power_table(build(tmp_path)).iloc[0]
    per_seed = np.mean([_diffs(scores, d).mean(axis=1) for d in DATASETS], axis=0)
    assert row["seeds"] == 3 and row["std"] == pytest.approx(per_seed.std(ddof=1))
    assert row["half_width"] == pytest.approx(scipy_stats.t.ppf(0.975, 2) * per_seed.std(ddof=1) / np.sqrt(3))
