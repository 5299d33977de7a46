"""Evaluation without ground truth: no-reference scores of a model's outputs and of its inputs."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data.mixing import to_tensor
from ..errors import ZooError
from .inference import OFFICIAL_TILE, resolve_tiling, restore
from .noref import NOREF_METRICS, NOREF_PROTOCOL, check_metrics, implementation, noref_scores


def evaluate_photos(
    model: nn.Module,
    photos: Sequence[np.ndarray],
    metrics: Sequence[str] = NOREF_METRICS,
    tile: int | str | None = OFFICIAL_TILE,
    overlap: int | None = None,
) -> dict[str, Any]:
    """Mean no-reference scores of the restored photos (`niqe`, ...) and of the rainy inputs
    (`input_niqe`, ...), plus per-image rows. Photos are restored one at a time (their sizes differ)."""
    names = check_metrics(metrics)
    implementations = {name: implementation(name) for name in names}  # fails first without pyiqa
    tile, overlap = resolve_tiling(model, tile, overlap)
    model.eval()
    per_image: list[dict[str, Any]] = []
    tiled = False
    start = time.perf_counter()
    for index in range(len(photos)):
        rainy = photos[index]
        with torch.inference_mode():
            restored = restore(model, to_tensor(rainy).unsqueeze(0), tile, overlap)
        tiled = tiled or (tile is not None and min(rainy.shape[:2]) > tile)
        row: dict[str, Any] = {"index": index, **noref_scores(restored[0], names)}
        row.update({f"input_{k}": v for k, v in noref_scores(rainy, names).items()})
        per_image.append(row)
    if not per_image:
        raise ZooError("the photo folder is empty; nothing to evaluate")
    keys = [*names, *(f"input_{n}" for n in names)]
    return {
        **{key: float(np.mean([row[key] for row in per_image])) for key in keys},
        "n_images": len(per_image),
        "protocol": NOREF_PROTOCOL,
        "noref_metrics": list(names),
        "implementations": implementations,
        "tiled": tiled,
        "tile": tile,
        "overlap": overlap,
        "seconds": time.perf_counter() - start,
        "per_image": per_image,
    }


def add_noref(result: dict[str, Any], model: nn.Module, pairs: Sequence[tuple[np.ndarray, np.ndarray]],
              metrics: Sequence[str] = NOREF_METRICS) -> dict[str, Any]:
    """`result` of `evaluate_set` on `pairs` with the no-reference scores of the same images added
    (means and per-image), for held-out sets that have ground truth but stand for real photos."""
    photos = [rainy for rainy, _ in pairs]
    tile = result.get("tile")
    noref = evaluate_photos(model, photos, metrics, tile=tile, overlap=result.get("overlap"))
    merged = {**result, **{k: noref[k] for k in noref if k.startswith("input_") or k in noref["noref_metrics"]}}
    merged["noref_metrics"], merged["implementations"] = noref["noref_metrics"], noref["implementations"]
    merged["noref_protocol"] = NOREF_PROTOCOL
    by_index = {row["index"]: row for row in noref["per_image"]}
    merged["per_image"] = [{**row, **by_index[row["index"]]} for row in result["per_image"]]
    return merged
