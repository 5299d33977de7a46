"""Per-dataset evaluation: mean input and output PSNR/SSIM of a test set under a named protocol."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data.mixing import to_tensor
from ..errors import ZooError
from .inference import OFFICIAL_TILE, resolve_tiling, restore
from .metric_table import FULL_REFERENCE, PAIRED_METRICS
from .metrics import score_batch
from .protocols import DEFAULT_PROTOCOL


def same_size_batches(pairs: Sequence[tuple[np.ndarray, np.ndarray]], batch: int) -> Iterator[list[int]]:
    """Indices of consecutive pairs in groups of at most `batch` images of one size (one tensor each)."""
    group: list[int] = []
    for index in range(len(pairs)):
        if group and (len(group) == batch or pairs[index][0].shape != pairs[group[0]][0].shape):
            yield group
            group = []
        group.append(index)
    if group:
        yield group


def evaluate_set(
    model: nn.Module,
    pairs: Sequence[tuple[np.ndarray, np.ndarray]],
    protocol: str = DEFAULT_PROTOCOL,
    tile: int | str | None = OFFICIAL_TILE,
    overlap: int | None = None,
    batch: int = 8,
) -> dict[str, Any]:
    """Mean input and output PSNR/SSIM of one test set, plus the per-image rows.

    `tile` is a tile size, None for whole images, or `OFFICIAL_TILE` for the backbone's official
    tiling; `overlap` defaults to the official 0 (or the backbone's official overlap).
    """
    tile, overlap = resolve_tiling(model, tile, overlap)
    model.eval()
    per_image: list[dict[str, Any]] = []
    tiled = False
    start = time.perf_counter()
    for group in same_size_batches(pairs, batch):
        loaded = [pairs[i] for i in group]
        rainy = torch.stack([to_tensor(r) for r, _ in loaded])
        clean = np.stack([c for _, c in loaded])
        restored = restore(model, rainy, tile, overlap)
        tiled = tiled or (tile is not None and min(rainy.shape[-2:]) > tile)
        outputs = score_batch(restored, clean, protocol)
        inputs = score_batch(np.stack([r for r, _ in loaded]), clean, protocol)
        for index, out_row, in_row in zip(group, outputs, inputs):
            per_image.append(
                {"index": index, **{m: out_row[m] for m in FULL_REFERENCE}, **{f"input_{m}": in_row[m] for m in FULL_REFERENCE}}
            )
    if not per_image:
        raise ZooError("the test set is empty; nothing to evaluate")
    means = {key: float(np.mean([row[key] for row in per_image])) for key in PAIRED_METRICS}
    return {
        **means,
        "n_images": len(per_image),
        "protocol": protocol,
        "tiled": tiled,
        "tile": tile,
        "overlap": overlap,
        "seconds": time.perf_counter() - start,
        "per_image": per_image,
    }
