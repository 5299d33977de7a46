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

COLUMNS = (
    "run", "backbone", "config", "method", "train_data", "eval_dataset", "metric", "protocol", "value",
    "n_images", "params", "macs", "iterations", "wall_time_s", "seed", "device", "code_version", "date",
    "source", "citation", "tiled", "precision", "effective_batch", "images_per_s", "peak_memory_gib",
    "implementation",
)
COST_COLUMNS = ("device", "precision", "effective_batch", "images_per_s", "peak_memory_gib", "wall_time_s")
KEY = ("run", "backbone", "config", "method", "train_data", "eval_dataset", "metric", "protocol", "seed", "iterations", "source")


def make_row(**fields: Any) -> dict[str, Any]:
    """A row with every column present (missing ones None); unknown columns are refused."""
    unknown = sorted(set(fields) - set(COLUMNS))
    if unknown:
        raise ValueError(f"unknown result columns {unknown}")
    return {column: fields.get(column) for column in COLUMNS}
