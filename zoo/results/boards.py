"""Leaderboards: pandas pivots of the results store and their statistics (rendered by `render`).

One board per (source, training data, protocol, iterations[, citation]): numbers are only put side by
side when they were produced the same way. In a board, rows are backbone x config x method, columns
the test sets (plus their average), and a cell is the mean ± sample std over seeds of one metric.
Each backbone with both methods gets a "CoIC − baseline" row: per seed, CoIC minus baseline, then the
mean of those differences over the seeds both methods ran, with its 95% confidence interval
(`stats`: a bootstrap over seeds and images where per-image scores are stored, else a t-interval
over seeds) and a marker where the interval excludes zero. The best mean per column is marked.
Reported numbers (`source=reported`, from `leaderboards/reported/*.csv`) are kept on their own boards,
captioned with their citation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..data.spec import REAL_DATASETS
from ..data.synth import DOMAINS
from ..errors import ZooError
from ..evaluation.metric_table import metric_info
from ..evaluation.protocols import PROTOCOLS
from . import stats as ci
from .store import DEFAULT_REPORTED, DEFAULT_STORE, ResultsStore, keep_seeds, require

SOURCES = ("measured", "reported", "all")
MEASURED = ("measured", "outputs")  # the leaderboard's `--source measured`: coic-zoo's runs and saved outputs (`zoo score`)
GAIN = "coic-baseline"  # the method name of the CoIC-minus-baseline rows (in CSV)
AVERAGE = "average"
METHOD_LABELS = {"baseline": "baseline", "coic": "CoIC", GAIN: "CoIC − baseline"}
ROW_KEYS = ["backbone", "config", "method"]


@dataclass
class Board:
    """One comparable group of results and its statistics."""

    source: str
    train_data: str
    protocol: str
    iterations: int | None
    citation: str
    metric: str
    datasets: list[str]  # column order: known test sets in the suite's order, others A-Z, then the average
    stats: pd.DataFrame  # backbone, config, method, eval_dataset, mean, std, n, best
    runs: int
    tiled: bool = False
    images: dict[tuple[str, str, str], tuple[int, int]] = field(default_factory=dict)  # row -> fewest, most images per test set

    @property
    def title(self) -> str:
        budget = f", {self.iterations} iterations" if self.iterations is not None else ""
        return (
            f"{metric_title(self.metric)}, {self.source}: trained on "
            f"{self.train_data}{budget}, protocol {self.protocol}"
        )

    @property
    def rows(self) -> list[tuple[str, str, str]]:
        """(backbone, config, method) in display order: per backbone, baseline, CoIC, others, the gain."""
        order = {"baseline": 0, "coic": 1, GAIN: 3}
        keys = {tuple(k) for k in self.stats[ROW_KEYS].itertuples(index=False)}
        return sorted(keys, key=lambda k: (k[0], k[1], order.get(k[2], 2), k[2]))  # type: ignore[return-value]

    def captions(self) -> list[str]:
        better = "lower" if metric_info(self.metric).lower_better else "higher"
        lines = []
        if self.protocol in PROTOCOLS:
            lines.append(f"Protocol {self.protocol}: {PROTOCOLS[self.protocol].description}.")
        else:
            lines.append(f"Protocol {self.protocol}.")
        if self.source == "published":
            lines.append("Published with coic-zoo: measured by its maintainers (the packaged copy of leaderboards/results).")
        if self.source == "outputs":
            lines.append("Scored by `zoo score` from each method's saved output images, not from a coic-zoo run.")
        if self.source == "reported":
            lines.append(f"Reported, not measured by coic-zoo: {self.citation}.")
            lines.append("Best per column marked; the CoIC − baseline row and the average are computed here from the reported values.")
        else:
            lines.append(
                f"Cells: mean ± sample std over seeds; n = seeds (runs) x images (per test set); best mean per column "
                f"marked ({better} is better). {self.runs} runs."
            )
            lines.append(self._gain_caption())
        if AVERAGE in self.datasets:
            per_seed = "" if self.source == "reported" else "per seed, "
            then = "" if self.source == "reported" else ", then over seeds"
            lines.append(f"{AVERAGE}: {per_seed}the mean over the {len(self.datasets) - 1} test sets{then}.")
        if self.tiled:
            lines.append("Some numbers come from tiled inference (see the `tiled` column of the store).")
        return lines

    def _gain_caption(self) -> str:
        gains = self.stats[self.stats["method"] == GAIN]
        methods = set(gains["ci_method"].dropna()) if "ci_method" in gains else set()
        how = []
        if ci.BOOTSTRAP in methods:
            how.append(
                f"a percentile bootstrap over seeds and images ({ci.RESAMPLES} resamples, numpy seed {ci.SEED}; "
                "seeds and, within each test set, images drawn with replacement)"
            )
        if ci.T_INTERVAL in methods:
            how.append("a Student t-interval over seeds (per-image scores are not stored for these runs)")
        interval = " or ".join(how) or "none (a single seed)"
        return (
            f"CoIC − baseline: paired difference (same seed, same test images), mean over the seeds both methods ran "
            f"[{ci.LEVEL:.0%} confidence interval: {interval}]; {ci.MARKER} where the interval excludes zero."
        )

    def n_images(self, key: tuple[str, str, str]) -> str:
        """Images per test set of a row ("16", or "8–16" when test sets differ); "–" when unknown."""
        if self.source == "reported" or key not in self.images:
            return "–"
        low, high = self.images[key]
        return str(low) if low == high else f"{low}–{high}"

    def cell(self, key: tuple[str, str, str], dataset: str) -> pd.Series | None:
        s = self.stats
        match = s[(s["backbone"] == key[0]) & (s["config"] == key[1]) & (s["method"] == key[2]) & (s["eval_dataset"] == dataset)]
        return None if match.empty else match.iloc[0]

    def seeds(self, key: tuple[str, str, str]) -> str:
        if self.source == "reported":
            return "–"
        s = self.stats
        n = s[(s["backbone"] == key[0]) & (s["config"] == key[1]) & (s["method"] == key[2])]["n"]
        low, high = int(n.min()), int(n.max())
        return str(low) if low == high else f"{low}–{high}"

    def pivot(self, value: str = "mean") -> pd.DataFrame:
        """rows x test sets of `value` (mean, std or n)."""
        table = self.stats.pivot_table(index=ROW_KEYS, columns="eval_dataset", values=value, aggfunc="first", dropna=False)
        return table.reindex(index=pd.MultiIndex.from_tuples(self.rows, names=ROW_KEYS), columns=self.datasets)


@dataclass
class Leaderboard:
    boards: list[Board]
    metric: str
    store: Path
    source: str
    n_rows: int
    code_versions: list[str] = field(default_factory=list)
    command: str = ""
    origin: str = ""  # where the rows came from, when not one store (`zoo leaderboard` without --store)
    skipped: list[str] = field(default_factory=list)  # damaged store files left out (`--skip-damaged`), one line each


# ---------------------------------------------------------------------------------------------
# Building


def load_table(
    store: Path = DEFAULT_STORE, source: str = "measured", reported: Path | None = DEFAULT_REPORTED, outputs: bool = False
) -> pd.DataFrame:
    """The store's rows of `source`; `outputs=True` counts rows scored from saved outputs as measured (boards only:
    the cost views build each row's backbone, and an outputs row names a method, not a backbone)."""
    if source not in SOURCES:
        raise ZooError(f"--source '{source}' is unknown; use {', '.join(SOURCES)}")
    include = Path(reported) if reported is not None and source != "measured" else None
    table = ResultsStore(store).load(include_reported=include)
    if table.empty:
        where = f"the results store {store}" + (f" or {include}" if include is not None else "")
        raise ZooError(f"no rows in {where}; fill the store with `zoo bench MATRIX.yaml --store {store}`")
    if outputs and source == "measured" and table["source"].isin(MEASURED).any():
        return table[table["source"].isin(MEASURED)]
    if source != "all":
        table = require(table, "source", source)
    return table


def build(
    store: str | Path = DEFAULT_STORE,
    metric: str = "psnr",
    datasets: list[str] | tuple[str, ...] = (),
    source: str = "measured",
    protocol: str | None = None,
    backbones: list[str] | tuple[str, ...] = (),
    reported: str | Path | None = DEFAULT_REPORTED,
    table: pd.DataFrame | None = None,
    images: pd.DataFrame | None = None,
    seeds: list[int] | tuple[int, ...] = (),
) -> Leaderboard:
    """The leaderboard of `store` (or of `table`); a metric, test set, protocol, backbone or seed the store
    lacks raises a `ZooError` listing the ones it has."""
    store = Path(store)
    if table is None:
        table = load_table(store, source, Path(reported) if reported is not None else None, outputs=True)
        images = ResultsStore(store).load_images() if images is None else images
    table = require(table, "metric", metric)
    for column, wanted in (("eval_dataset", datasets), ("backbone", backbones)):
        for value in wanted:
            require(table, column, value)
        if wanted:
            table = table[table[column].astype(str).isin(list(wanted))]
    if protocol:
        table = require(table, "protocol", protocol)
    table = keep_seeds(table, seeds)
    boards = boards_of(table, metric, images)
    versions = sorted({str(v) for v in table.loc[table["source"].isin(["measured", "published", "outputs"]), "code_version"].dropna().unique()})
    return Leaderboard(boards, metric, store, source, len(table), versions)


def boards_of(table: pd.DataFrame, metric: str, images: pd.DataFrame | None = None) -> list[Board]:
    """Split `table` (rows of one metric) into comparable groups and compute each group's statistics.

    `images` (the store's per-image scores, `ResultsStore.load_images`) give the gains bootstrap
    intervals; without them (or for runs they lack) the intervals are t-intervals over seeds."""
    table = table.copy()
    for column in ("train_data", "protocol", "citation", "config"):
        table[column] = [("" if pd.isna(v) else str(v)) for v in table[column]]
    table["iterations"] = pd.to_numeric(table["iterations"], errors="coerce").fillna(-1).astype(int)
    table["seed"] = pd.to_numeric(table["seed"], errors="coerce").fillna(-1).astype(int)
    table["value"] = pd.to_numeric(table["value"], errors="coerce")
    table.loc[table["source"] != "reported", "citation"] = ""
    boards = []
    group_keys = ["source", "train_data", "protocol", "iterations", "citation"]
    for (source, train_data, protocol, iterations, citation), group in table.groupby(group_keys, sort=True):
        datasets = dataset_order(group["eval_dataset"].astype(str).unique())
        paired = _image_differences(group, images, metric)
        stats = _statistics(group, datasets, lower_better=metric_info(metric).lower_better, per_image=paired)
        if len(datasets) > 1:
            datasets.append(AVERAGE)
        tiled = bool(group["tiled"].astype(str).str.lower().isin(["true", "1"]).any())
        boards.append(Board(
            str(source), train_data, protocol, None if iterations < 0 else int(iterations), citation, metric, datasets,
            stats, int(group["run"].nunique()), tiled, _image_counts(group),
        ))
    boards.sort(key=lambda b: ({"published": 0, "measured": 1}.get(b.source, 2), b.train_data, b.protocol, b.iterations or 0, b.citation))
    return boards


def dataset_order(names: Any) -> list[str]:
    """The suite's own order for the test sets it knows (synthmix domains, then real sets), then A-Z."""
    names = [str(n) for n in names]
    # "ddn" is both a synthmix domain and a real set: use the order that knows most of the names.
    orders = [tuple(DOMAINS), REAL_DATASETS]
    known = max(orders, key=lambda order: sum(n in order for n in names))
    rank = {name: i for i, name in enumerate(known)}
    return sorted(names, key=lambda n: (rank.get(n, len(known)), n))


def _image_counts(group: pd.DataFrame) -> dict[tuple[str, str, str], tuple[int, int]]:
    """Row -> (fewest, most) images per test set; a gain row counts its baseline's."""
    n = pd.to_numeric(group["n_images"], errors="coerce")
    counts = {}
    for key, values in n.groupby([group[k] for k in ROW_KEYS]):
        if values.notna().any():
            counts[tuple(str(k) for k in key)] = (int(values.min()), int(values.max()))
    for (backbone, config, method), value in list(counts.items()):
        if method == "baseline":
            counts[(backbone, config, GAIN)] = value
    return counts  # type: ignore[return-value]


def _image_differences(group: pd.DataFrame, images: pd.DataFrame | None, metric: str) -> pd.DataFrame | None:
    """Per-image CoIC − baseline (backbone, config, eval_dataset, seed, index, value) of the group's runs."""
    if images is None or images.empty or metric not in images.columns:
        return None
    iterations = pd.to_numeric(images["iterations"], errors="coerce").fillna(-1).astype(int)
    mine = images[
        images["run"].isin(set(group["run"])) & images["protocol"].isin(set(group["protocol"]))
        & images["source"].isin(set(group["source"])) & iterations.isin(set(group["iterations"]))
    ]
    if mine.empty:
        return None
    mine = mine.assign(eval_dataset=mine["eval_dataset"].astype(str), config=mine["config"].fillna("").astype(str),
                       seed=pd.to_numeric(mine["seed"], errors="coerce").fillna(-1).astype(int), value=pd.to_numeric(mine[metric], errors="coerce"))
    wide = mine.pivot_table(index=["backbone", "config", "eval_dataset", "seed", "index"], columns="method", values="value")
    if "coic" not in wide.columns or "baseline" not in wide.columns:
        return None
    return (wide["coic"] - wide["baseline"]).dropna().rename("value").reset_index()


def _statistics(group: pd.DataFrame, datasets: list[str], lower_better: bool, per_image: pd.DataFrame | None = None) -> pd.DataFrame:
    group = group.assign(eval_dataset=group["eval_dataset"].astype(str))
    per_seed = group.groupby([*ROW_KEYS, "seed", "eval_dataset"], sort=False)["value"].mean().reset_index()
    if len(datasets) > 1:  # the average over test sets, only for seeds that ran all of them
        wide = per_seed.pivot_table(index=[*ROW_KEYS, "seed"], columns="eval_dataset", values="value").reindex(columns=datasets)
        average = wide.dropna().mean(axis=1).rename("value").reset_index().assign(eval_dataset=AVERAGE)
        per_seed = pd.concat([per_seed, average], ignore_index=True)
    stats = _aggregate(per_seed, ROW_KEYS + ["eval_dataset"])
    gains = _gains(per_seed, per_image, datasets)
    best = stats.groupby("eval_dataset")["mean"].transform("min" if lower_better else "max")
    stats["best"] = stats["mean"] == best
    if not gains.empty:
        gains["best"] = False
        stats = pd.concat([stats, gains], ignore_index=True)
    return stats


def _aggregate(values: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = values.groupby(keys, sort=False)["value"].agg(mean="mean", std="std", n="count").reset_index()
    out["n"] = out["n"].astype(int)
    return out


def _gains(per_seed: pd.DataFrame, per_image: pd.DataFrame | None = None, datasets: list[str] | None = None) -> pd.DataFrame:
    """Per backbone and test set: CoIC minus baseline per seed, then mean, std and count over seeds, and
    the mean's confidence interval (`stats.gain_intervals`)."""
    empty = pd.DataFrame(columns=[*ROW_KEYS, "eval_dataset", "mean", "std", "n", *ci.CI_COLUMNS])
    wide = per_seed.pivot_table(index=["backbone", "config", "eval_dataset", "seed"], columns="method", values="value")
    if "coic" not in wide.columns or "baseline" not in wide.columns:
        return empty
    diff = (wide["coic"] - wide["baseline"]).dropna().rename("value").reset_index()
    if diff.empty:
        return empty
    diff["method"] = GAIN
    out = _aggregate(diff, ROW_KEYS + ["eval_dataset"])
    intervals = ci.gain_intervals(diff, per_image, list(datasets or []), AVERAGE)
    return out.merge(intervals, on=["backbone", "config", "eval_dataset"], how="left")


def method_label(method: str) -> str:
    """How a method is named in tables: baseline, CoIC, CoIC − baseline."""
    return METHOD_LABELS.get(method, method)


def metric_title(metric: str) -> str:
    """`PSNR (dB)`: a metric's label with its unit, for titles and axes."""
    info = metric_info(metric)
    return info.label + (f" ({info.unit})" if info.unit else "")
