"""Evaluate a finished run on the test sets of its data and write its rows to `metrics.json`.

It sits in `training/` because it reads what a run is (its `TrainConfig`: data, evaluation settings,
protocol) and is part of a training run's life; the scoring itself is `zoo.evaluation`. Only the
run's own evaluation goes to `metrics.json`; other data, another root or a random encoder go to a
side file (`zoo.training.metrics_files`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from .._atomic import atomic_write_json
from ..data.photos import PhotoFolder
from ..data.spec import parse_data
from ..data.synth import HELD_OUT_DOMAINS
from ..errors import ZooError
from ..evaluation.complexity import count_macs
from ..evaluation.devices import device_name, resolve_device
from ..evaluation.evaluate import evaluate_set
from ..evaluation.evaluate_noref import add_noref, evaluate_photos
from ..evaluation.extras import IQA_HINT, has_pyiqa, require_pyiqa
from ..evaluation.metric_table import PAIRED_METRICS
from ..evaluation.noref import NIQE_BLOCK, NOREF_PROTOCOL
from ..evaluation.records import COST_COLUMNS, make_row
from ..models.build import build_model
from ..models.checkpoint import RANDOM_ENCODER, has_random_encoder, load_model_dir
from ..models.files import METRICS_FILE
from ..version import code_version, utc_now
from .config import TrainConfig
from .curves import read_curve
from .evaluation_plan import evaluation_plan
from .metrics_files import evaluation_identity, make_room, metrics_name
from .runs import read_run

NOREF_DATA = "noref"  # `--data noref --root DIR`: a folder of rainy photos without ground truth


@dataclass(frozen=True)
class TrainedRun:
    """What the process that has just trained a run holds: its settings (`cfg`), the `run` block it last
    wrote to config.json (`record`: step, wall time, device, speed) and its exported model.

    `zoo train` hands it to `evaluate_run`, which then reads nothing of the run folder back.
    """

    cfg: TrainConfig
    record: dict[str, Any]
    model: nn.Module


def evaluate_run(
    run_dir: Path, data: str | None = None, root: Path | None = None, on_set: Callable[[str, int], None] | None = None,
    device: str = "auto", allow_random_encoder: bool = False, trained: TrainedRun | None = None,
) -> dict[str, Any]:
    """Evaluate `run_dir` on `data` (default: the data it trained on) and write `metrics.json`.

    Only the run's own evaluation (its data, root, protocol and trained encoder) is written to
    `metrics.json`; any other goes to the side file `metrics_files.metrics_name` names, whose name
    the result gives under `"file"`. `allow_random_encoder` evaluates a CoIC run whose
    `encoder.safetensors` is missing; its rows then say "random encoder" in `implementation`.

    `data="noref"` scores the photos in the folder `root` with no-reference metrics only (NIQE, PIQE,
    entropy; they need the `iqa` extra). With synthmix, the held-out domains (`real-like`) get those
    scores too, when pyiqa is installed and the test images hold one 96-pixel NIQE block; otherwise
    `metrics["notes"]` says why they are missing. The model runs on `device`; scores are computed on the CPU in float64 whatever the device, so a
    PSNR does not depend on where it was measured. `on_set(name, n_images)` is called before each
    test set, for the caller's progress display. `trained` (the training process's settings, record
    and model) stands in for the run's config.json and weights, which are then not read.
    """
    run_dir = Path(run_dir)
    cfg, state = read_run(run_dir) if trained is None else (trained.cfg, dict(trained.record))
    plan = evaluation_plan(cfg)
    data = data or cfg.data
    tile = plan.tile
    notes: list[str] = []
    if data == NOREF_DATA:
        if root is None:
            raise ZooError("--data noref needs --root DIR, the folder of rainy photos to score without ground truth")
        require_pyiqa("--data noref (NIQE, PIQE, entropy)")
        photos = PhotoFolder(root)
        sets: dict[str, Any] = {photos.name: photos}
    else:
        root = root or plan.root
        sets = plan.sets(data, root)
    held_out = _held_out_noref(data, plan.size, notes)
    where = resolve_device(device)
    model = _as_saved(trained) if trained is not None else load_model_dir(run_dir, allow_random_encoder=allow_random_encoder)
    model = model.to(where)
    random_encoder = has_random_encoder(model)
    identity = evaluation_identity(cfg, data, root, random_encoder)
    file_name = metrics_name(cfg, identity)
    if random_encoder:
        notes.append(f"z from a randomly initialised encoder (no encoder.safetensors): these scores describe no trained model ({RANDOM_ENCODER})")
    results: dict[str, dict[str, Any]] = {}
    for name, pairs in sets.items():
        if on_set is not None:
            on_set(name, len(pairs))
        if data == NOREF_DATA:
            results[name] = evaluate_photos(model, pairs, tile=tile)
            continue
        results[name] = evaluate_set(model, pairs, plan.protocol, tile=tile)
        if name in held_out:
            results[name] = add_noref(results[name], model, pairs)
    params = _count(model) - _count(getattr(model, "key_encoder", None))  # the key encoder is a training-time copy
    state.setdefault("device", device_name(where))  # runs from before the device was recorded
    rows = _rows(run_dir, cfg, data, results, params, count_macs(model.cpu(), 128), state, utc_now(), random_encoder)
    moved = make_room(run_dir, cfg, identity) if file_name == METRICS_FILE else None
    if moved:
        notes.append(moved)
    metrics = {
        "file": file_name,
        "evaluation": identity,
        "protocol": cfg.protocol,
        "data": data,
        "datasets": {name: {k: v for k, v in r.items() if k != "per_image"} for name, r in results.items()},
        "per_image": {name: r["per_image"] for name, r in results.items()},
        "training": {key: rows[0][key] for key in COST_COLUMNS} if rows else {},
        "rows": rows,
        "curve": read_curve(run_dir),
    }
    if notes:
        metrics["notes"] = notes
    atomic_write_json(run_dir / file_name, metrics)
    return metrics


def _held_out_noref(data: str, size: int, notes: list[str]) -> tuple[str, ...]:
    """The held-out synthmix domains to score without reference too, or () with a note saying why not."""
    if data == NOREF_DATA or "synthmix" not in [name for name, _ in parse_data(data)]:
        return ()
    if not has_pyiqa():
        notes.append(f"no NIQE/PIQE/entropy for {', '.join(HELD_OUT_DOMAINS)}: {IQA_HINT}")
        return ()
    if size < NIQE_BLOCK:
        notes.append(f"no NIQE/PIQE/entropy for {', '.join(HELD_OUT_DOMAINS)}: test images of {size} px are "
                     f"smaller than one {NIQE_BLOCK}-pixel NIQE block (train with --set eval_size={NIQE_BLOCK} or more)")
        return ()
    return HELD_OUT_DOMAINS


def _as_saved(trained: TrainedRun) -> nn.Module:
    """The held model's weights in a freshly built model: what `load_model_dir` gives back from the run folder.

    Not the training model itself: that one may be compiled, in channels_last memory, or (a CoIC run
    that ended in stage 1) have its modulation off, each of which could change a score; this twin is
    scored exactly as `zoo evaluate RUN` scores the saved folder later.
    """
    cfg = trained.cfg
    model = build_model(cfg.backbone, coic=cfg.coic, config=cfg.config, **cfg.model)
    model.load_state_dict(trained.model.state_dict())
    return model.eval()


def _count(module: nn.Module | None) -> int:
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def _rows(run_dir: Path, cfg: TrainConfig, data: str, results: dict[str, dict[str, Any]], params: int, macs: int | None,
          state: dict[str, Any], date: str, random_encoder: bool = False) -> list[dict[str, Any]]:
    wall = state.get("wall_time_s")
    rows = []
    for name, result in results.items():
        noref = result.get("noref_metrics", [])
        for metric in (*PAIRED_METRICS, *noref, *(f"input_{n}" for n in noref)):
            if metric not in result:
                continue
            paired = metric in PAIRED_METRICS
            implementation = None if paired else result["implementations"][metric.removeprefix("input_")]
            if random_encoder:
                implementation = f"{implementation}; {RANDOM_ENCODER}" if implementation else RANDOM_ENCODER
            rows.append(
                make_row(
                    run=run_dir.name, backbone=cfg.backbone, config=cfg.config, method="coic" if cfg.coic else "baseline",
                    train_data=cfg.data, eval_dataset=name, metric=metric,
                    protocol=result["protocol"] if paired else NOREF_PROTOCOL,
                    implementation=implementation,
                    value=float(result[metric]), n_images=result["n_images"],
                    params=params, macs=macs, iterations=state.get("step", cfg.iters), wall_time_s=wall, seed=cfg.seed,
                    device=state["device"], code_version=code_version(), date=date, source="measured", citation="",
                    tiled=result["tiled"], precision=cfg.precision, effective_batch=cfg.batch,
                    images_per_s=state.get("images_per_s"), peak_memory_gib=state.get("peak_memory_gib"),
                )
            )
    return rows
