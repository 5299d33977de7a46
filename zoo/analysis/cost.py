"""What CoIC costs: parameters, MACs and time per image, baseline vs CoIC of one backbone (official `time_calc.py`).

Both variants are built from the run's own build arguments (backbone, config, overrides, encoder),
so a baseline run is compared with its CoIC twin and a CoIC run with its baseline. Parameters of the
CoIC model count the backbone, the modulation MLPs and the query encoder, not the momentum copy
(a training-time duplicate; test-time z comes from it, but a deployed model needs one encoder).
MACs come from `zoo.evaluation.complexity.count_macs` (torch's FLOP counter) at size x size; time is the
wall-clock of one whole forward pass on one size x size image, z included, after warm-up, on the device
the run's model was loaded on (`zoo analyze cost --device`; the official script times 512 x 512 on a GPU
with CUDA events).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from .._progress import NullProgress, ProgressLike
from ..errors import ZooError
from ..evaluation.complexity import count_macs, parameter_counts, time_per_image
from ..evaluation.devices import device_name
from ..models.build import build_model
from ..models.checkpoint import read_config
from .figures import Result, colour, pyplot, save_figure, title, write_tables
from .source import AnalysedModel

VARIANTS = ("baseline", "coic")


def variants(source: AnalysedModel) -> dict[str, nn.Module]:
    """The run's model and its other variant (same backbone, config, overrides, encoder), baseline first,
    both on the device of the run's model."""
    build = read_config(source.path)
    kwargs = {"config": build.get("config", "tiny"), **build.get("overrides", {})}
    models: dict[str, nn.Module] = {}
    for variant in VARIANTS:
        coic = variant == "coic"
        if coic == source.coic:
            models[variant] = source.model
        elif coic:
            models[variant] = build_model(build["backbone"], coic=True, layout=build.get("layout", "official"), encoder=build.get("encoder"), **kwargs)
        else:
            models[variant] = build_model(build["backbone"], coic=False, **kwargs)
    device = next(source.model.parameters()).device
    return {name: model.eval().to(device) for name, model in models.items()}


def measure(source: AnalysedModel, size: int = 256, repeats: int = 5, warmup: int = 2, progress: ProgressLike | None = None) -> pd.DataFrame:
    """One row per variant: parameters (and parts), MACs at size x size, seconds per image (mean, std, median)."""
    if size < 8:
        raise ZooError(f"--size {size} is too small; use at least 8 pixels")
    if repeats < 1:
        raise ZooError(f"--repeats {repeats} must be at least 1")
    rows = []
    bar = progress if progress is not None else NullProgress()
    task = bar.add_task("timing", total=len(VARIANTS))
    try:
        for variant, model in variants(source).items():
            times = np.array(time_per_image(model, size, repeats, warmup))
            rows.append({
                "variant": variant, "backbone": source.backbone, "config": source.config, **parameter_counts(model),
                "macs": count_macs(model, size), "size": size, "seconds_mean": float(times.mean()), "seconds_std": float(times.std()),
                "seconds_median": float(np.median(times)), "repeats": repeats, "threads": torch.get_num_threads(),
                "device": device_name(next(model.parameters()).device),
            })
            bar.update(task, advance=1)
    finally:
        bar.remove_task(task)
    return pd.DataFrame(rows)


def analyze_cost(
    source: AnalysedModel, out_dir: Path, size: int = 256, repeats: int = 5, warmup: int = 2, progress: ProgressLike | None = None
) -> Result:
    """Baseline vs CoIC cost of this run's backbone; PNG + CSV, and the CoIC/baseline ratios."""
    table = measure(source, size, repeats, warmup, progress)
    out_dir = Path(out_dir)
    files = write_tables({"main": table}, out_dir, "cost")
    heading = title(f"cost of CoIC for {source.backbone} ({source.config}), one {size}x{size} image, {table['device'].iloc[0]}",
                    source.name)
    files.append(save_figure(_figure(table, heading), out_dir / "cost.png"))
    base, coic = (table[table["variant"] == v].iloc[0] for v in VARIANTS)
    summary = {"params_ratio": coic["params"] / base["params"], "seconds_ratio": coic["seconds_median"] / base["seconds_median"]}
    if pd.notna(base["macs"]) and pd.notna(coic["macs"]):
        summary["macs_ratio"] = coic["macs"] / base["macs"]
    return Result({"main": table}, files, summary)


def _figure(table: pd.DataFrame, heading: str):
    plt = pyplot()
    panels = (("params", 1e6, "parameters (M)"), ("macs", 1e9, "GMACs"), ("seconds_median", 1e-3, "ms per image (median)"))
    fig, axes = plt.subplots(1, len(panels), figsize=(10.0, 3.4))
    for ax, (column, unit, label) in zip(axes, panels):
        values = pd.to_numeric(table[column], errors="coerce") / unit
        bars = ax.bar(table["variant"], values.fillna(0.0), color=[colour(0), colour(6)][: len(table)])
        for bar, value in zip(bars, values):
            ax.annotate("n/a" if pd.isna(value) else f"{value:.3g}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=8)
        if column == "params":
            coic = table[table["variant"] == "coic"].iloc[0]
            parts = coic["modulation_params"] / unit, coic["encoder_params"] / unit
            ax.bar(["coic"], [parts[0] + parts[1]], bottom=coic["backbone_params"] / unit, color="none", edgecolor="black", hatch="//", linewidth=0.6,
                   label="modulation + encoder")
            ax.legend(fontsize=7)
        ax.set_ylabel(label)
    fig.suptitle(heading, fontsize=9)
    return fig
