"""Scoring any method's saved outputs against ground truth, under several protocols at once (`zoo score`).

Published deraining numbers come from different scripts (`protocols.PROTOCOLS`), so a method's own
table cannot be compared with ours until its outputs are scored by the same recipe. This module
takes the pairs `output_pairs` formed, checks every size from the file headers before decoding
anything (a mismatch is an error, never a silent resize), scores each pair once per protocol with
`metrics.score_batch`, and turns the result into result rows (`source` "outputs") and per-image lines
for the results store, so saved outputs sit on the leaderboard beside trained runs.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .._progress import NullProgress, ProgressLike
from ..data.images import read_rgb, split_side_by_side
from ..data.layouts.table import get_layout
from ..errors import UnknownNameError, ZooError
from ..version import code_version, utc_now
from .metrics import score_batch
from .output_images import ImageInfo, probe, read_output
from .output_pairs import OutputPair
from .protocols import get_protocol
from .records import image_rows, make_row

SOURCE = "outputs"
"""The `source` (and `method`) of result rows scored from saved outputs rather than from a coic-zoo run."""
CROP_NOTE = "--crop-to-gt: {n} of {total} predictions cropped to their ground truth's size (top-left kept)"


@dataclass
class OutputScores:
    """Per-image PSNR/SSIM of every pair under every protocol, and how the files were read."""

    pairs: list[OutputPair]
    protocols: list[str]
    per_image: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # protocol -> one dict per pair
    notes: list[str] = field(default_factory=list)

    def values(self, protocol: str, metric: str) -> np.ndarray:
        return np.array([row[metric] for row in self.per_image[protocol]], dtype=float)


def dataset_name(folder_name: str) -> str:
    """A GT folder's name as a test-set name: a known dataset's canonical name (Rain200H -> rain200h), else as is."""
    try:
        return get_layout(folder_name).name
    except UnknownNameError:
        return folder_name


def _truth_info(pair: OutputPair) -> ImageInfo:
    info = probe(pair.truth)
    return ImageInfo(info.height, info.width // 2, info.notes) if pair.half is not None else info


def _read_truth(pair: OutputPair) -> torch.Tensor | np.ndarray:
    """A dataset's clean image is read strictly, as everywhere for dataset files; a GT folder leniently."""
    if pair.half is not None:
        return split_side_by_side(read_rgb(pair.truth), pair.half, pair.truth)[1]
    return read_output(pair.truth) if pair.lenient_truth else read_rgb(pair.truth)


def check_sizes(pairs: list[OutputPair], crop_to_gt: bool) -> list[str]:
    """Reading notes of all files, from their headers; any size mismatch `--crop-to-gt` cannot fix raises."""
    notes: set[str] = set()
    bad: list[tuple[OutputPair, ImageInfo, ImageInfo]] = []
    cropped = 0
    for pair in pairs:
        pred, truth = probe(pair.prediction), _truth_info(pair)
        notes |= pred.notes | truth.notes
        if (pred.height, pred.width) == (truth.height, truth.width):
            continue
        if crop_to_gt and pred.height >= truth.height and pred.width >= truth.width:
            cropped += 1
        else:
            bad.append((pair, pred, truth))
    if bad:
        pair, pred, truth = bad[0]
        more = f" (and {len(bad) - 1} more pairs differ)" if len(bad) > 1 else ""
        fix = (
            f"pass --crop-to-gt to keep the top-left {truth.width}x{truth.height} of larger predictions, or fix the outputs"
            if pred.height >= truth.height and pred.width >= truth.width
            else "a prediction smaller than its ground truth cannot be scored: fix the outputs"
        )
        raise ZooError(
            f"{pair.prediction} is {pred.width}x{pred.height} px but its ground truth {pair.truth_name} is "
            f"{truth.width}x{truth.height}{more}; predictions are never resized: {fix}"
        )
    ordered = sorted(notes)
    if cropped:
        ordered.append(CROP_NOTE.format(n=cropped, total=len(pairs)))
    return ordered


def _score_pair(pair: OutputPair, protocols: list[str]) -> list[dict[str, Any]]:
    """Read one pair and score it under each protocol: one {"psnr", "ssim", "protocol"} per protocol."""
    truth = _read_truth(pair)
    pred = read_output(pair.prediction)
    height, width = truth.shape[:2] if isinstance(truth, np.ndarray) else truth.shape[-2:]
    pred = pred[:, :height, :width]  # only larger predictions under --crop-to-gt reach here unequal
    return [score_batch(pred, truth, name)[0] for name in protocols]


def default_workers() -> int:
    """One scoring thread per CPU this process may use (at most 8)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(8, cpus))


def score_outputs(
    pairs: list[OutputPair], protocols: list[str], crop_to_gt: bool = False, progress: ProgressLike | None = None,
    workers: int | None = None,
) -> OutputScores:
    """PSNR/SSIM of every pair under every protocol; each pair is read once, sizes are checked first.

    Pairs are scored by `workers` threads (default: one per CPU), each running torch single-threaded:
    the maps of one image are too small for torch's intra-op threads to pay off, and on a busy machine
    its OpenMP threads wait on each other (two threads measured 8x slower than one on two loaded cores).
    Decoding and torch's kernels release the GIL, so the threads do run side by side. Every image is
    computed on one thread whatever the worker count, so the numbers never depend on it.
    """
    if not pairs:
        raise ZooError("no pairs to score")
    names = [get_protocol(name).name for name in protocols]
    scores = OutputScores(pairs, names, {name: [] for name in names}, check_sizes(pairs, crop_to_gt))
    progress = progress or NullProgress()
    task = progress.add_task("scoring", total=len(pairs))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    pool = ThreadPoolExecutor(max_workers=workers or default_workers())
    try:
        for index, (pair, rows) in enumerate(zip(pairs, pool.map(_score_pair, pairs, [names] * len(pairs)))):
            for name, row in zip(names, rows):
                scores.per_image[name].append({"index": index, "key": pair.key, "psnr": row["psnr"], "ssim": row["ssim"]})
            progress.update(task, advance=1)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        torch.set_num_threads(threads)
    progress.remove_task(task)
    return scores


def result_rows(
    scores: OutputScores, method: str, dataset: str, train_data: str = "-"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(result rows, per-image lines) for `ResultsStore.append`: PSNR and SSIM means per protocol.

    `run` and `backbone` are the method's name, `method` and `source` are "outputs"; how the files
    were read (16-bit, alpha, --crop-to-gt) goes to `implementation`, so a number never hides it.
    """
    rows: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    date, version = utc_now(), code_version()
    implementation = "zoo score: " + "; ".join(scores.notes) if scores.notes else None
    for protocol in scores.protocols:
        mine = [
            make_row(
                run=method, backbone=method, config="-", method=SOURCE, train_data=train_data, eval_dataset=dataset,
                metric=metric, protocol=protocol, value=float(np.mean(scores.values(protocol, metric))),
                n_images=len(scores.pairs), code_version=version, date=date, source=SOURCE, citation="",
                implementation=implementation,
            )
            for metric in ("psnr", "ssim")
        ]
        rows += mine
        images += image_rows(mine, {dataset: scores.per_image[protocol]})
    return rows, images


def per_image_lines(scores: OutputScores) -> list[dict[str, Any]]:
    """One line per (pair, protocol) for `--per-image FILE.csv`: names, protocol, PSNR, SSIM."""
    lines = []
    for protocol in scores.protocols:
        for pair, row in zip(scores.pairs, scores.per_image[protocol]):
            lines.append({
                "key": pair.key, "prediction": str(pair.prediction), "ground_truth": pair.truth_name,
                "protocol": protocol, "psnr": row["psnr"], "ssim": row["ssim"],
            })
    return lines
