"""Hugging Face `model-index` YAML of leaderboard rows: what model cards and paperswithcode.co read.

One entry per model (a backbone, config and method as trained on one data and budget, or one reported
method of one source); under it one result per test set and protocol, with PSNR and SSIM. The protocol
is part of every metric's name ("PSNR (y-matlab)"), because a model-index consumer puts numbers side
by side by metric name, and numbers of two protocols must never share one (`notes`: up to 1.3 dB
apart on the same images). Measured values are means over seeds; `verified` is false for reported ones.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import defaults
from ..data.layouts.table import dataset_names, get_layout
from ..errors import ZooError
from ..evaluation.metric_table import metric_info
from .test_sets import is_procedural

TASK = {"type": "image-to-image", "name": "Image Deraining"}
INDEX_METRICS = ("psnr", "ssim")
_MODEL = ["source", "run_name", "backbone", "config", "method", "train_data", "iterations"]


def dataset_entry(name: str, train_data: str) -> dict[str, str]:
    """The model-index `dataset` of test set `name`: Rain200H for `rain200h` (the layout's title), while
    synthmix's procedural domains (`ddn`, `did-low`; `results.test_sets`) must not pass for the real datasets."""
    if is_procedural(name, train_data):
        return {"type": f"{defaults.DATA}/{name}", "name": f"{defaults.DATA} {name} (procedural)", "split": "test"}
    return {"type": name, "name": get_layout(name).title if name in dataset_names() else name, "split": "test"}


def model_index(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The `model-index` list of `table` (store rows, measured and/or reported)."""
    table = table[table["metric"].isin(INDEX_METRICS)].copy()
    if table.empty:
        raise ZooError(f"no {' or '.join(INDEX_METRICS)} rows to write as model-index")
    for column in ("run", "config", "train_data", "protocol", "citation", "source_url"):
        if column not in table.columns:
            table[column] = ""
        table[column] = ["" if pd.isna(v) else str(v) for v in table[column]]
    table["iterations"] = pd.to_numeric(table["iterations"], errors="coerce").fillna(-1).astype(int)
    table["value"] = pd.to_numeric(table["value"], errors="coerce")
    # a reported row is its own model (one source's number); measured seeds of one recipe are one model
    table["run_name"] = [run if source == "reported" else "" for run, source in zip(table["run"], table["source"])]
    entries = []
    for key, model in table.groupby(_MODEL, sort=True):
        identity = dict(zip(_MODEL, key))
        results = []
        for (dataset, protocol), rows in model.groupby(["eval_dataset", "protocol"], sort=True):
            results.append(_result(str(dataset), str(protocol), rows, identity["source"], str(identity["train_data"])))
        entries.append({"name": _name(identity), "results": results})
    return entries


def to_yaml(table: pd.DataFrame, generated: str | None = None) -> str:
    import yaml

    head = f"# {generated}\n" if generated else ""
    return head + yaml.safe_dump({"model-index": model_index(table)}, sort_keys=False, allow_unicode=True, width=10_000)


def _name(identity: dict[str, Any]) -> str:
    method = identity["backbone"] + (" + CoIC" if identity["method"] == "coic" else "")
    if identity["source"] == "reported":
        return f"{method} ({identity['run_name']})"
    budget = f", {identity['iterations']} iterations" if identity["iterations"] >= 0 else ""
    return f"{method} ({identity['config']}, trained on {identity['train_data']}{budget}, {identity['source']})"


def _result(dataset: str, protocol: str, rows: pd.DataFrame, source: str, train_data: str) -> dict[str, Any]:
    metrics = []
    for metric in INDEX_METRICS:
        values = rows.loc[rows["metric"] == metric, "value"].dropna()
        if values.empty:
            continue
        info = metric_info(metric)
        entry: dict[str, Any] = {
            "type": metric, "name": f"{info.label} ({protocol})", "value": round(float(values.mean()), info.digits + 2),
        }
        if source != "reported":
            entry["args"] = {"seeds": int(values.size)}
        entry["verified"] = False
        metrics.append(entry)
    result: dict[str, Any] = {"task": dict(TASK), "dataset": dataset_entry(dataset, train_data), "metrics": metrics}
    first = rows.iloc[0]
    if source == "reported":
        result["source"] = {"name": first["citation"], "url": first["source_url"]}
    else:
        result["source"] = {"name": f"coic-zoo ({source})"}
    return result
