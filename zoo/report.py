"""Evaluate a finished run on its test sets, store the numbers and print them as a table."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.table import Table
from torch import nn

from ._atomic import atomic_write_json
from .checkpoint import load_model_dir, read_config
from .complexity import count_macs
from .data.mixing import evaluation_sets
from .evaluate import OFFICIAL_TILE, evaluate_set
from .results import make_row
from .runs import METRICS_FILE, code_version, find_baseline, read_metrics, run_config, utc_now
from .train_config import TrainConfig


def _device() -> str:
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def evaluate_run(run_dir: Path, data: str | None = None, root: Path | None = None, console: Console | None = None) -> dict[str, Any]:
    """Evaluate `run_dir` on `data` (default: the data it trained on) and write `metrics.json`."""
    run_dir = Path(run_dir)
    cfg = run_config(run_dir)
    data = data or cfg.data
    root = root or (Path(cfg.root) if cfg.root else None)
    model = load_model_dir(run_dir)
    sets = evaluation_sets(
        data, root, seed=0, synth_count=cfg.eval_count, synth_size=cfg.eval_size,
        overrides=cfg.root_overrides(), allow_partial=cfg.allow_partial,
    )
    state = read_config(run_dir).get("run", {})
    results: dict[str, dict[str, Any]] = {}
    for name, pairs in sets.items():
        if console is not None:
            console.print(f"evaluating {name} ({len(pairs)} images)", style="dim")
        results[name] = evaluate_set(model, pairs, cfg.protocol, tile=OFFICIAL_TILE if cfg.eval_tile is None else (cfg.eval_tile or None))
    params = _count(model) - _count(getattr(model, "key_encoder", None))  # the key encoder is a training-time copy
    rows = _rows(run_dir, cfg, data, results, params, count_macs(model, 128), state, utc_now())
    metrics = {
        "protocol": cfg.protocol,
        "data": data,
        "datasets": {name: {k: v for k, v in r.items() if k != "per_image"} for name, r in results.items()},
        "per_image": {name: r["per_image"] for name, r in results.items()},
        "rows": rows,
    }
    atomic_write_json(run_dir / METRICS_FILE, metrics)
    return metrics


def _count(module: nn.Module | None) -> int:
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def _rows(run_dir: Path, cfg: TrainConfig, data: str, results: dict[str, dict[str, Any]], params: int, macs: int | None,
          state: dict[str, Any], date: str) -> list[dict[str, Any]]:
    wall = state.get("wall_time_s")
    rows = []
    for name, result in results.items():
        for metric in ("psnr", "ssim", "input_psnr", "input_ssim"):
            rows.append(
                make_row(
                    run=run_dir.name, backbone=cfg.backbone, config=cfg.config, method="coic" if cfg.coic else "baseline",
                    train_data=cfg.data, eval_dataset=name,
                    metric=metric, protocol=result["protocol"], value=float(result[metric]), n_images=result["n_images"],
                    params=params, macs=macs, iterations=state.get("step", cfg.iters), wall_time_s=wall, seed=cfg.seed,
                    device=_device(), code_version=code_version(), date=date, source="measured", citation="",
                    tiled=result["tiled"],
                )
            )
    return rows


def print_table(run_dir: Path, console: Console) -> None:
    """The run's per-dataset table; with a matching baseline beside it, a CoIC-minus-baseline column."""
    cfg = run_config(run_dir)
    metrics = read_metrics(run_dir)
    if metrics is None:
        console.print(f"{run_dir}: not evaluated yet; run `zoo evaluate {run_dir}`")
        return
    baseline_dir = find_baseline(run_dir, cfg) if cfg.coic else None
    baseline = read_metrics(baseline_dir) if baseline_dir else None
    method = "CoIC" if cfg.coic else "baseline"
    table = Table(title=f"{cfg.backbone} ({cfg.config}, {method}) on {metrics['data']} — PSNR/SSIM protocol: {metrics['protocol']}")
    for column in ("dataset", "n", "input PSNR", "output PSNR", "input SSIM", "output SSIM"):
        table.add_column(column, justify="right" if column != "dataset" else "left")
    if baseline is not None:
        table.add_column("Δ PSNR vs baseline", justify="right")
        table.add_column("Δ SSIM vs baseline", justify="right")
    for name, r in metrics["datasets"].items():
        cells = [name, str(r["n_images"]), f"{r['input_psnr']:.2f}", f"{r['psnr']:.2f}", f"{r['input_ssim']:.4f}", f"{r['ssim']:.4f}"]
        if baseline is not None:
            other = baseline["datasets"].get(name)
            cells += [f"{r['psnr'] - other['psnr']:+.2f}", f"{r['ssim'] - other['ssim']:+.4f}"] if other else ["-", "-"]
        table.add_row(*cells)
    console.print(table)
    if baseline_dir is not None:
        console.print(f"baseline: {baseline_dir}")
    elif cfg.coic:
        console.print(f"no matching baseline beside this run; train one with `zoo train {cfg.backbone} --no-coic --out {run_dir.parent}/...` (same seed, data, iterations)", style="dim")
