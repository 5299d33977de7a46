"""CoIC − baseline against the training budget, from the learning curves in a results store.

A run trained with `--eval-every N` scores its test sets every N iterations (`curve-*.csv`), so one
run answers every budget up to its length. Here the curve points of CoIC and baseline runs with the
same backbone, config, data, protocol and seed are paired step by step: the difference per seed and
test set, then over seeds its mean and 95% Student t-interval (`stats.t_interval`), the same interval
in the figure's band (`plot.plot_gain_curves`) and in the table at any recorded budget
(`zoo leaderboard --at-iteration N`, built by `rows_at`). Curve points carry no per-image scores, so
this is the interval over paired seeds; n is the number of seeds paired at that step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ZooError
from ..evaluation.records import COLUMNS
from .boards import AVERAGE, Board, Leaderboard, build, dataset_order
from .stats import t_interval
from .store import ResultsStore

PAIR_KEYS = ["backbone", "config", "train_data", "protocol", "seed", "eval_dataset", "step"]


def _numeric(curves: pd.DataFrame) -> pd.DataFrame:
    frame = curves.copy()
    frame["step"] = pd.to_numeric(frame["step"], errors="coerce").astype("Int64")
    frame["seed"] = pd.to_numeric(frame["seed"], errors="coerce").astype("Int64")
    frame["psnr"] = pd.to_numeric(frame["psnr"], errors="coerce")
    for column in ("backbone", "config", "train_data", "protocol", "method", "eval_dataset", "run"):
        frame[column] = frame[column].fillna("").astype(str)
    return frame.dropna(subset=["step", "seed", "psnr"])


def recorded_steps(curves: pd.DataFrame) -> list[int]:
    """The training steps at which some run of the store recorded a curve point."""
    return sorted({int(s) for s in _numeric(curves)["step"]}) if not curves.empty else []


def rows_at(curves: pd.DataFrame, step: int, option: str = "--at-iteration") -> pd.DataFrame:
    """Result rows (`records.COLUMNS`, metric psnr) of every run's curve point at `step`, for the
    leaderboard at that budget; `iterations` is the step, `n_images` is unknown (curves keep none).
    `option` is the command-line option that asked for `step`, named in the error."""
    frame = _numeric(curves)
    frame = frame[frame["step"] == step]
    if frame.empty:
        steps = recorded_steps(curves)
        shown = ", ".join(str(s) for s in steps) or "none (train with --eval-every N)"
        raise ZooError(f"{option} {step}: no run of the store recorded a test score there; recorded: {shown}")
    rows = frame.assign(metric="psnr", value=frame["psnr"], iterations=int(step), source=frame["source"].fillna("measured"))
    return rows.reindex(columns=list(COLUMNS)).reset_index(drop=True)


def board_at(
    store: str | Path, step: int, curves: pd.DataFrame | None = None, option: str = "--at-iteration", **filters: Any,
) -> Leaderboard:
    """The leaderboard of `store` at training step `step`, built from its runs' curve points (`rows_at`):
    what `--at-iteration` and `--budget-at` show. `curves` (the store's, already loaded) saves reading
    them again for each step; `filters` are `build`'s (metric, datasets, protocol, backbones, seeds)."""
    curves = ResultsStore(store).load_curves() if curves is None else curves
    return build(store, table=rows_at(curves, step, option), images=None, **filters)


def paired_differences(curves: pd.DataFrame) -> pd.DataFrame:
    """CoIC − baseline PSNR per (backbone, config, data, protocol, seed, test set, step), the average
    over test sets included for seeds whose every test set is paired at that step."""
    frame = _numeric(curves)
    wide = frame.pivot_table(index=PAIR_KEYS, columns="method", values="psnr", aggfunc="mean")
    if "coic" not in wide.columns or "baseline" not in wide.columns:
        return pd.DataFrame(columns=[*PAIR_KEYS, "value"])
    diff = (wide["coic"] - wide["baseline"]).dropna().rename("value").reset_index()
    keys = [k for k in PAIR_KEYS if k != "eval_dataset"]
    datasets = diff.groupby(keys[:-2])["eval_dataset"].transform("nunique")  # per backbone/config/data/protocol
    per_step = diff.groupby(keys)["eval_dataset"].transform("nunique")
    complete = diff[per_step == datasets]
    average = complete.groupby(keys)["value"].mean().reset_index().assign(eval_dataset=AVERAGE)
    return pd.concat([diff, average], ignore_index=True)


def gain_curves(curves: pd.DataFrame) -> pd.DataFrame:
    """Per backbone, config, data, protocol, test set and step: the mean paired difference over seeds,
    its 95% t-interval (`low`, `high`; NaN below two seeds) and n, the number of paired seeds."""
    diff = paired_differences(curves)
    columns = ["backbone", "config", "train_data", "protocol", "eval_dataset", "step", "mean", "low", "high", "n"]
    if diff.empty:
        return pd.DataFrame(columns=columns)
    out = []
    for key, group in diff.groupby(["backbone", "config", "train_data", "protocol", "eval_dataset", "step"], sort=True):
        low, high = t_interval(group["value"].to_numpy())
        out.append({**dict(zip(columns[:6], key)), "mean": float(group["value"].mean()), "low": low, "high": high, "n": len(group)})
    frame = pd.DataFrame(out, columns=columns)
    order = {name: i for i, name in enumerate(dataset_order(frame["eval_dataset"].unique()))}
    order[AVERAGE] = -1
    return frame.sort_values(["backbone", "config", "train_data", "protocol", "eval_dataset", "step"],
                             key=lambda s: s.map(order) if s.name == "eval_dataset" else s).reset_index(drop=True)


@dataclass
class BudgetView:
    """A store's answer to "when does CoIC pay off?", for a page beside another store's boards
    (`zoo leaderboard --budget-store S --budget-at N`): the gain-curve figure of `--plot` as PNG bytes
    and the boards at each requested budget, the same as `--store S --at-iteration N` prints."""

    store: Path
    boards: list[Board]
    figure: bytes


def budget_view(store: str | Path, steps: Sequence[int]) -> BudgetView:
    """The figure and boards of `store`'s paired learning curves at `steps` (default: the last recorded
    step); a store without paired curves, or a step none of its runs recorded, raises a `ZooError`."""
    from .plot import plot_gain_curves, png_bytes

    store = Path(store)
    curves = ResultsStore(store).load_curves()
    gains = gain_curves(curves) if not curves.empty else pd.DataFrame()
    if gains.empty:
        raise ZooError(f"--budget-store {store}: no CoIC and baseline runs there share a seed and a learning curve "
                       "(train both with --eval-every N, e.g. with benchmarks/matrices/synthmix-budget.yaml)")
    boards = [board for step in (steps or recorded_steps(curves)[-1:])
              for board in board_at(store, step, curves, "--budget-at").boards]
    return BudgetView(store, boards, png_bytes(lambda path: plot_gain_curves(gains, path)))
