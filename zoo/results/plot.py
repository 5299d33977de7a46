"""The leaderboard's figures: the CoIC gain per test set and backbone (mean over paired seeds with the
tables' 95% confidence interval), and the learning curves (baseline vs CoIC test PSNR against
iterations) of runs that recorded one."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .._atomic import atomic_write
from ..errors import ZooError
from .boards import GAIN, Leaderboard, method_label, metric_title


def plot(lb: Leaderboard, path: str | Path) -> Path:
    """A grouped bar chart of the CoIC gain per test set and backbone: the mean paired difference and, as
    its error bar, the same confidence interval the table prints (`stats.gain_intervals`), so figure
    and table never disagree; a cell without an interval (one seed) has no bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    boards = [b for b in lb.boards if (b.stats["method"] == GAIN).any()]
    if not boards:
        raise ZooError("nothing to plot: no backbone has both baseline and CoIC results on the same seeds")
    fig, axes = plt.subplots(len(boards), 1, figsize=(max(6.0, 1.1 * max(len(b.datasets) for b in boards) + 2), 3.6 * len(boards)), squeeze=False)
    for ax, board in zip(axes[:, 0], boards):
        gains = board.stats[board.stats["method"] == GAIN]
        keys = sorted({(b, c) for b, c in zip(gains["backbone"], gains["config"])})
        configs = {c for _, c in keys}
        width = 0.8 / max(len(keys), 1)
        for i, (backbone, config) in enumerate(keys):
            rows = gains[(gains["backbone"] == backbone) & (gains["config"] == config)].set_index("eval_dataset")
            rows = rows.reindex(board.datasets)
            xs = [j + (i - (len(keys) - 1) / 2) * width for j in range(len(board.datasets))]
            label = backbone if len(configs) == 1 else f"{backbone} ({config})"
            ax.bar(xs, rows["mean"].fillna(0.0), width, yerr=_interval_bars(rows), capsize=2, label=label)
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_xticks(range(len(board.datasets)))
        ax.set_xticklabels(board.datasets, rotation=20, ha="right")
        ax.set_ylabel(f"CoIC − baseline {metric_title(board.metric)}")
        ax.set_title(board.title, fontsize=9)
        ax.legend(fontsize=8, ncol=min(len(keys), 5))
    return _save(fig, path)


def _interval_bars(rows: pd.DataFrame) -> list[list[float]]:
    """matplotlib's asymmetric `yerr` (below, above the mean) from the rows' CI columns; 0 where none."""
    if "ci_low" not in rows.columns:
        return [[0.0] * len(rows), [0.0] * len(rows)]
    low = (rows["mean"] - pd.to_numeric(rows["ci_low"], errors="coerce")).fillna(0.0)
    high = (pd.to_numeric(rows["ci_high"], errors="coerce") - rows["mean"]).fillna(0.0)
    return [low.clip(lower=0.0).tolist(), high.clip(lower=0.0).tolist()]


def plot_curves(curves: pd.DataFrame, path: str | Path) -> Path:
    """Learning curves: per backbone, baseline and CoIC test PSNR (mean over test sets, then mean ±
    std over seeds as a band) against training iterations, so one sees a gap closing or opening."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if curves.empty:
        raise ZooError("nothing to plot: no run in the store recorded a learning curve (train with --eval-every N)")
    curves = curves.assign(psnr=pd.to_numeric(curves["psnr"], errors="coerce"), config=curves["config"].fillna("").astype(str))
    per_run = curves.groupby(["backbone", "config", "method", "train_data", "seed", "step"], dropna=False)["psnr"].mean().reset_index()
    keys = sorted({(str(b), c, str(d)) for b, c, d in zip(per_run["backbone"], per_run["config"], per_run["train_data"])})
    columns = min(len(keys), 3)
    rows = -(-len(keys) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False)
    for ax, (backbone, config, data) in zip(axes.flat, keys):
        mine = per_run[(per_run["backbone"] == backbone) & (per_run["config"] == config) & (per_run["train_data"].astype(str) == data)]
        for method, colour in (("baseline", "tab:blue"), ("coic", "tab:orange")):
            line = mine[mine["method"] == method].groupby("step")["psnr"].agg(["mean", "std", "count"]).sort_index()
            if line.empty:
                continue
            ax.plot(line.index, line["mean"], color=colour, marker="o", markersize=3,
                    label=f"{method_label(method)} ({int(line['count'].max())} seeds)")
            spread = line["std"].where(line["count"] >= 2)
            ax.fill_between(line.index, line["mean"] - spread, line["mean"] + spread, color=colour, alpha=0.2, linewidth=0)
        ax.set_title(f"{backbone} ({config}), trained on {data}", fontsize=9)
        ax.set_xlabel("iterations")
        ax.set_ylabel("test PSNR (dB), mean over test sets")
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    return _save(fig, path)


def plot_gain_curves(gains: pd.DataFrame, path: str | Path) -> Path:
    """CoIC − baseline PSNR against training iterations (`budget.gain_curves`): first panel, the average
    over test sets, one line per backbone with its 95% band over paired seeds; then one panel per
    backbone with a line per test set (mean over paired seeds), so a domain that gains or loses shows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .boards import AVERAGE

    groups = sorted({(str(b), str(c), str(d), str(p)) for b, c, d, p in
                     zip(gains["backbone"], gains["config"], gains["train_data"], gains["protocol"])})
    panels = 1 + len(groups)
    columns = min(panels, 3)
    rows = -(-panels // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.4 * rows), squeeze=False)
    first = axes.flat[0]
    for backbone, config, data, protocol in groups:
        mine = gains[(gains["backbone"] == backbone) & (gains["config"] == config) & (gains["train_data"] == data)
                     & (gains["protocol"] == protocol)]
        average = mine[mine["eval_dataset"] == AVERAGE].sort_values("step")
        n = f"n={int(average['n'].min())}" if average["n"].min() == average["n"].max() else f"n={int(average['n'].min())}-{int(average['n'].max())}"
        line = first.plot(average["step"], average["mean"], marker="o", markersize=3, label=f"{backbone} ({config}, {n} seeds)")[0]
        first.fill_between(average["step"], average["low"], average["high"], color=line.get_color(), alpha=0.2, linewidth=0)
    first.axhline(0.0, color="black", linewidth=0.8)
    first.set_title(f"average over test sets, 95% CI over paired seeds ({groups[0][3] if groups else ''})", fontsize=9)
    first.set_xlabel("iterations")
    first.set_ylabel("CoIC − baseline PSNR (dB)")
    first.legend(fontsize=7)
    for ax, (backbone, config, data, protocol) in zip(list(axes.flat)[1:], groups):
        mine = gains[(gains["backbone"] == backbone) & (gains["config"] == config) & (gains["train_data"] == data)
                     & (gains["protocol"] == protocol) & (gains["eval_dataset"] != AVERAGE)]
        for dataset in dict.fromkeys(mine["eval_dataset"]):
            points = mine[mine["eval_dataset"] == dataset].sort_values("step")
            ax.plot(points["step"], points["mean"], marker=".", markersize=3, linewidth=1, label=dataset)
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_title(f"{backbone} ({config}, {data}): per test set, mean over seeds", fontsize=9)
        ax.set_xlabel("iterations")
        ax.set_ylabel("CoIC − baseline PSNR (dB)")
        ax.legend(fontsize=6, ncol=2)
    for ax in list(axes.flat)[panels:]:
        ax.set_visible(False)
    return _save(fig, path)


def png_bytes(draw: Callable[[Path], Path]) -> bytes:
    """The figure that `draw(path)` (one of this module's plotters) writes, as PNG bytes: what a page
    embeds instead of a file beside it."""
    with tempfile.TemporaryDirectory() as folder:
        return draw(Path(folder) / "figure.png").read_bytes()


def _save(fig: Any, path: str | Path) -> Path:
    """Lay out, write atomically as a 120-dpi PNG and close a figure: every figure of the board is saved so."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = Path(path)
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    plt.close(fig)
    return path
