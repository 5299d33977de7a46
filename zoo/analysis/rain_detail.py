"""How much rain and background detail each move z, and how restoration follows (controlled synthmix sweeps).

Four sweeps, each changing one factor while everything else stays fixed (same background, same
streak seeds, same random draws):
- rain density, streak width and streak angle, over one background;
- background detail, one rain layer over the background blurred progressively (Gaussian sigma).
For every point: z (test-time, momentum encoder), its distance to z at the sweep's reference
setting, and the input and output PSNR under the run's protocol. Distances are normalised by the
median distance between z of two different test images of the run's data, so 1.0 means "moved as
far as one typical image is from another". Repeats use other backgrounds and streak seeds.

With a results store, the rows of the same recipe trained with `--negatives rain|detail|both` (the
ablation; found by the run names `zoo train` and `zoo bench` give them) are collected beside it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .._progress import NullProgress, ProgressLike
from ..coic.contrastive import NEGATIVES
from ..coic.model import CoICModel
from ..data.mixing import to_tensor
from ..data.synth.backgrounds import background
from ..data.synth.rain import StreakLayer, gaussian_blur, streaks
from ..errors import ZooError
from ..evaluation.inference import restore
from ..evaluation.metrics import score_batch
from ..results.store import ResultsStore
from ..training.runs import default_run_dir
from .embeddings import embed_images
from .figures import NEUTRAL, Result, colour, pyplot, save_figure, title, write_tables
from .source import AnalysedModel

# The reference rain layer (a mid-density Rain800-like layer) and each factor's sweep, which includes
# the reference value so that the reference point itself has distance 0.
REFERENCE = {"density": 0.004, "length": 20.0, "angle": 0.0, "width": 0.6, "brightness": 0.5, "detail": 0.0}
SWEEPS: dict[str, tuple[float, ...]] = {
    "density": (0.001, 0.002, 0.004, 0.008, 0.016),  # streak seeds per pixel
    "width": (0.2, 0.6, 1.0, 1.4, 1.8),  # Gaussian sigma across a streak, pixels
    "angle": (-40.0, -20.0, 0.0, 20.0, 40.0),  # degrees from vertical
    "detail": (0.0, 0.75, 1.5, 3.0, 6.0),  # blur sigma of the background, pixels (0 = full detail)
}
UNITS = {"density": "seeds / pixel", "width": "streak sigma (px)", "angle": "degrees from vertical", "detail": "background blur sigma (px)"}


def _layer(settings: dict[str, float]) -> StreakLayer:
    def fixed(key: str) -> tuple[float, float]:
        return (settings[key], settings[key])

    return StreakLayer(fixed("density"), fixed("length"), fixed("angle"), fixed("width"), fixed("brightness"))


def sweep_pair(factor: str, value: float, repeat: int, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(rainy, clean) uint8 for one sweep point: the reference settings with `factor` set to `value`."""
    settings = {**REFERENCE, factor: value}
    clean = background(np.random.default_rng([seed, 41, repeat]), size, size, "photo")
    clean = gaussian_blur(clean, settings["detail"])
    # The same generator state for every value: streak seeds and their draws stay put, only the factor moves.
    rain = streaks(np.random.default_rng([seed, 43, repeat]), size, size, _layer(settings))
    rainy = np.clip(clean + rain[..., None], 0.0, 1.0)
    return (np.rint(rainy * 255).astype(np.uint8), np.rint(np.clip(clean, 0, 1) * 255).astype(np.uint8))


def typical_distance(model: CoICModel, images: list[np.ndarray]) -> float:
    """Median z distance between two different images: the unit the sweeps' distances are measured in."""
    z = embed_images(model, images)
    distances = np.linalg.norm(z[:, None] - z[None], axis=-1)[np.triu_indices(len(z), k=1)]
    return float(np.median(distances)) if distances.size else 1.0


@torch.inference_mode()
def sweep(
    model: CoICModel, protocol: str, size: int = 128, repeats: int = 3, seed: int = 0, scale: float = 1.0,
    progress: ProgressLike | None = None,
) -> pd.DataFrame:
    """One row per (factor, value, repeat): z distance to the reference (raw and / `scale`), input and output PSNR."""
    rows = []
    bar = progress if progress is not None else NullProgress()
    task = bar.add_task("sweeping", total=len(SWEEPS) * repeats)
    try:
        for factor, values in SWEEPS.items():
            for repeat in range(repeats):
                pairs = [sweep_pair(factor, v, repeat, size, seed) for v in values]
                rainy = [r for r, _ in pairs]
                clean = np.stack([c for _, c in pairs])
                z = embed_images(model, rainy)
                reference = z[values.index(REFERENCE[factor])]
                restored = restore(model, torch.stack([to_tensor(r) for r in rainy]))
                outputs, inputs = score_batch(restored, clean, protocol), score_batch(np.stack(rainy), clean, protocol)
                for value, z_i, out, inp in zip(values, z, outputs, inputs):
                    distance = float(np.linalg.norm(z_i - reference))
                    rows.append({"factor": factor, "value": value, "repeat": repeat, "z_distance": distance,
                                 "z_distance_normalised": distance / scale, "input_psnr": inp["psnr"], "psnr": out["psnr"],
                                 "protocol": protocol})
                bar.update(task, advance=1)
    finally:
        bar.remove_task(task)
    return pd.DataFrame(rows)


def factor_summary(points: pd.DataFrame) -> pd.DataFrame:
    """Per factor: how far z moves (mean and max normalised distance) and how much output PSNR spans."""
    rows = []
    for factor, frame in points.groupby("factor", sort=False):
        means = frame.groupby("value")[["z_distance_normalised", "psnr", "input_psnr"]].mean()
        rows.append({
            "factor": factor,
            "z_move_mean": float(frame["z_distance_normalised"].mean()),
            "z_move_max": float(means["z_distance_normalised"].max()),
            "psnr_range": float(means["psnr"].max() - means["psnr"].min()),
            "input_psnr_range": float(means["input_psnr"].max() - means["input_psnr"].min()),
            # Does restoration follow z? Correlation over the sweep points, pooled over repeats.
            "corr_z_psnr": float(np.corrcoef(frame["z_distance_normalised"], frame["psnr"])[0, 1])
            if frame["z_distance_normalised"].std() > 0 and frame["psnr"].std() > 0 else float("nan"),
        })
    return pd.DataFrame(rows)


def ablation_rows(store: Path, source: AnalysedModel) -> pd.DataFrame:
    """Stored PSNR rows of this run's recipe trained with each `--negatives` setting (empty if none)."""
    columns = ["negatives", "run", "eval_dataset", "psnr", "protocol", "iterations"]
    if source.train is None or not source.train.coic:
        return pd.DataFrame(columns=columns)
    names = {default_run_dir(replace(source.train, negatives=n), Path()).name: n for n in NEGATIVES}
    table = ResultsStore(store).load()
    if table.empty:
        return pd.DataFrame(columns=columns)
    cfg = source.train
    keep = (table["run"].isin(list(names)) & (table["backbone"] == cfg.backbone) & (table["config"] == cfg.config)
            & (table["train_data"] == cfg.data) & (table["method"] == "coic") & (table["metric"] == "psnr")
            & (table["source"] == "measured") & (table["protocol"] == source.protocol)
            & (pd.to_numeric(table["iterations"], errors="coerce") == cfg.iters))
    rows = table[keep]
    return pd.DataFrame({
        "negatives": rows["run"].map(names), "run": rows["run"], "eval_dataset": rows["eval_dataset"],
        "psnr": rows["value"].astype(float), "protocol": rows["protocol"], "iterations": rows["iterations"],
    }, columns=columns).reset_index(drop=True)


def analyze_rain_detail(
    source: AnalysedModel, out_dir: Path, repeats: int = 3, size: int | None = None, store: Path | None = None,
    data: str | None = None, root: Path | None = None, seed: int = 0, progress: ProgressLike | None = None,
) -> Result:
    """The four sweeps, their per-factor summary and (with `store`) the negatives ablation; PNG + CSVs."""
    model = source.require_coic("rain-detail")
    if repeats < 1:
        raise ZooError(f"--repeats {repeats} must be at least 1")
    data = data or source.data
    reference_images = [pairs[i][0] for pairs in source.sets(data, root, 8).values() for i in range(len(pairs))]
    scale = typical_distance(model, reference_images)
    points = sweep(model, source.protocol, size or source.eval_size, repeats, seed, scale, progress)
    tables = {"main": points, "summary": factor_summary(points)}
    if store is not None:
        ablation = ablation_rows(Path(store), source)
        if not ablation.empty:
            tables["ablation"] = ablation
    out_dir = Path(out_dir)
    files = write_tables(tables, out_dir, "rain-detail")
    heading = title("how far z moves (normalised) and how output PSNR follows, one factor at a time", source.name,
                    f"synthmix sweeps; distance unit from {data}", source.protocol)
    files.append(save_figure(_figure(tables, heading), out_dir / "rain-detail.png"))
    summary = {f"z_move_mean[{r.factor}]": float(r.z_move_mean) for r in tables["summary"].itertuples()}
    summary["typical_distance"] = scale
    return Result(tables, files, summary)


def _figure(tables: dict[str, pd.DataFrame], heading: str):
    plt = pyplot()
    points = tables["main"]
    ablation = tables.get("ablation")
    rows = 2 if ablation is not None else 1
    fig = plt.figure(figsize=(13.0, 3.6 * rows))
    grid = fig.add_gridspec(rows, len(SWEEPS))
    for i, factor in enumerate(SWEEPS):
        ax = fig.add_subplot(grid[0, i])
        stats = points[points["factor"] == factor].groupby("value").agg(
            z=("z_distance_normalised", "mean"), z_std=("z_distance_normalised", "std"), psnr=("psnr", "mean"),
            psnr_std=("psnr", "std"), input_psnr=("input_psnr", "mean")).fillna(0.0)
        ax.errorbar(stats.index, stats["z"], yerr=stats["z_std"], color=colour(0), marker="o", markersize=3.5, capsize=2, label="z distance")
        ax.set_xlabel(UNITS[factor])
        ax.set_ylabel("z distance (normalised)", color=colour(0))
        ax.set_title(factor)
        twin = ax.twinx()
        twin.grid(False)
        twin.errorbar(stats.index, stats["psnr"], yerr=stats["psnr_std"], color=colour(6), marker="s", markersize=3.5, capsize=2, label="output PSNR")
        twin.plot(stats.index, stats["input_psnr"], color=NEUTRAL, linestyle="--", linewidth=1.0, label="input PSNR")
        twin.set_ylabel("PSNR (dB)", color=colour(6))
        if i == 0:
            handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
            ax.legend(handles, [h.get_label() for h in handles], fontsize=7, loc="best")
    if ablation is not None:
        ax = fig.add_subplot(grid[1, :])
        pivot = ablation.pivot_table(index="eval_dataset", columns="negatives", values="psnr", aggfunc="mean")
        kinds = [n for n in NEGATIVES if n in pivot.columns]
        width = 0.8 / len(kinds)
        for k, kind in enumerate(kinds):
            xs = np.arange(len(pivot)) + (k - (len(kinds) - 1) / 2) * width
            ax.bar(xs, pivot[kind], width, color=colour(2 * k), label=f"--negatives {kind}")
        ax.set_xticks(range(len(pivot)), pivot.index, rotation=20, ha="right")
        ax.set_ylabel("output PSNR (dB)")
        ax.set_title("ablation: contrastive negatives kept during training (results store)")
        low = float(np.nanmin(pivot[kinds].to_numpy()))
        ax.set_ylim(bottom=max(0.0, low - 2.0))
        ax.legend(fontsize=7)
    fig.suptitle(heading, fontsize=9)
    return fig
