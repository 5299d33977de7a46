"""The CoIC-gain figure: per test set and backbone, CoIC minus baseline (mean ± std over seeds)."""

from __future__ import annotations

from pathlib import Path

from .._atomic import atomic_write
from ..errors import ZooError
from .boards import GAIN, Leaderboard, metric_title


def plot(lb: Leaderboard, path: str | Path) -> Path:
    """A grouped bar chart of the CoIC gain (mean ± std over seeds) per test set and backbone."""
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
            spread = rows["std"].where(rows["n"] >= 2)  # no error bar from a single seed
            ax.bar(xs, rows["mean"].fillna(0.0), width, yerr=spread, capsize=2, label=label)
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_xticks(range(len(board.datasets)))
        ax.set_xticklabels(board.datasets, rotation=20, ha="right")
        ax.set_ylabel(f"CoIC − baseline {metric_title(board.metric)}")
        ax.set_title(board.title, fontsize=9)
        ax.legend(fontsize=8, ncol=min(len(keys), 5))
    fig.tight_layout()
    path = Path(path)
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    plt.close(fig)
    return path
