"""The result row: one measured or reported number and everything that changes it.

A row names the run, backbone, config, method (coic / baseline), train data, eval dataset, metric
and protocol; plus value, n_images, params, MACs, iterations, wall time, seed, device, code version,
date and `source` (`measured`, or `reported` with a citation). Evaluation produces rows; the results
store (`zoo.results.store`) keeps them; `KEY` is what makes two rows the same measurement.

How the run was trained rides along (`COST_COLUMNS`): `device` (the training device, e.g.
`NVIDIA H200 (cuda:0)` or `2 x ...` under DDP), `precision`, `effective_batch`, `images_per_s`
(training throughput, data loading included) and `peak_memory_gib` (largest CUDA allocation of one
process; empty off CUDA). Stores written before these columns existed read them as empty.
`implementation` names what computed a metric whose protocol leaves it open (the no-reference
metrics: pyiqa's version and the NIQE prior); empty for PSNR/SSIM, whose protocol says everything.
"""

from __future__ import annotations

from typing import Any

from .metric_table import FULL_REFERENCE

COLUMNS = (
    "run", "backbone", "config", "method", "train_data", "eval_dataset", "metric", "protocol", "value",
    "n_images", "params", "macs", "iterations", "wall_time_s", "seed", "device", "code_version", "date",
    "source", "citation", "tiled", "precision", "effective_batch", "images_per_s", "peak_memory_gib",
    "implementation",
)
# Reported rows (`leaderboards/reported/*.csv`) also say where the number was published and what one
# may do with the method: the columns below, empty on measured rows and absent from store parts.
REPORTED_COLUMNS = ("venue", "year", "source_url", "code_url", "weights_licence")
COST_COLUMNS = ("device", "precision", "effective_batch", "images_per_s", "peak_memory_gib", "wall_time_s")
KEY = ("run", "backbone", "config", "method", "train_data", "eval_dataset", "metric", "protocol", "seed", "iterations", "source")


def make_row(**fields: Any) -> dict[str, Any]:
    """A row with every column present (missing ones None); unknown columns are refused."""
    unknown = sorted(set(fields) - set(COLUMNS))
    if unknown:
        raise ValueError(f"unknown result columns {unknown}")
    return {column: fields.get(column) for column in COLUMNS}

# Per-image scores of a run, stored next to its rows so paired statistics can be recomputed: one
# line per (test set, image) naming the run's measurement (the KEY minus the metric) and its scores.
IMAGE_KEY = ("run", "backbone", "config", "method", "train_data", "eval_dataset", "protocol", "seed", "iterations", "source", "index")
IMAGE_METRICS = FULL_REFERENCE
IMAGE_COLUMNS = (*IMAGE_KEY, *IMAGE_METRICS)


def image_rows(rows: list[dict[str, Any]], per_image: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per-image lines for `rows` (one run's result rows) from `per_image` (test set -> scores per image,
    as `evaluate_set` returns them); a test set without a result row is skipped."""
    identity = {row["eval_dataset"]: row for row in rows if row.get("metric") in IMAGE_METRICS}
    out = []
    for dataset, scores in per_image.items():
        row = identity.get(dataset)
        if row is None:
            continue
        for image in scores:
            line = {key: row.get(key) for key in IMAGE_KEY if key != "index"}
            line["index"] = int(image["index"])
            line.update({metric: image.get(metric) for metric in IMAGE_METRICS})
            out.append(line)
    return out

# Learning-curve points of a run (`zoo train --eval-every N`), stored next to its rows as `curve-<id>.csv`.
CURVE_KEY = ("run", "backbone", "config", "method", "train_data", "eval_dataset", "protocol", "seed", "source", "step")
CURVE_COLUMNS = (*CURVE_KEY, "psnr")


def curve_rows(rows: list[dict[str, Any]], curve: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (curve point, test set) lines naming `rows`' run, from `curve` (`training.curves.read_curve`)."""
    identity = {row["eval_dataset"]: row for row in rows if row.get("metric") == "psnr"}
    out = []
    for point in curve:
        for dataset, value in point.get("psnr", {}).items():
            row = identity.get(dataset)
            if row is not None:
                out.append({**{k: row.get(k) for k in CURVE_KEY if k != "step"}, "step": int(point["step"]), "psnr": float(value)})
    return out
