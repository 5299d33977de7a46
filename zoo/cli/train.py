"""CLI commands about runs: `zoo train` and `zoo evaluate`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from .. import defaults
from ..errors import ZooError
from . import options
from .deprecations import deprecated
from .progress import make_progress

if TYPE_CHECKING:
    from ..training.config import TrainConfig

console = Console()


def train(
    ctx: typer.Context,
    backbone: str = typer.Argument(..., metavar="BACKBONE", help="Registered backbone, e.g. brn (see `zoo models`)."),
    coic: bool = typer.Option(True, "--coic/--no-coic", help="Train with CoIC (default) or the plain baseline."),
    config: str = typer.Option(defaults.CONFIG, "--config", help="tiny (CPU) or paper (the published model)."),
    data: str = typer.Option(defaults.DATA, "--data", help="synthmix, mix5, mix5+spa or names like rain200l,ddn\\[:weight]."),
    root: Path | None = typer.Option(None, "--root", help="Folder holding one folder per real dataset."),
    dataset_root: list[str] = typer.Option([], "--dataset-root", help="NAME=DIR: where one dataset lives, overriding --root."),
    allow_partial: bool = typer.Option(False, "--allow-partial", help="Accept datasets with fewer images than expected (warns)."),
    iters: int | None = typer.Option(None, "--iters", help="Total iterations (default: the recipe's)."),
    stage1_iters: int | None = typer.Option(None, "--stage1-iters", help="Iterations of stage 1 (backbone only)."),
    batch: int | None = typer.Option(None, "--batch", help="Global batch size."),
    crop: int | None = typer.Option(None, "--crop", help="Training patch size."),
    seed: int = typer.Option(
        0, "--seed", help="Seed of the initial weights, the crops and batch order, and (synthmix) the synthetic training "
        "images; a CoIC run and a baseline with the same seed are a pair.",
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Run directory (default runs/<backbone>-<config>-<data>-<method>-s<seed>)."),
    resume: Path | None = typer.Option(None, "--resume", help="Continue the run in this directory from its last checkpoint."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Start over in an existing run directory."),
    precision: str = typer.Option("fp32", "--precision", help="fp32, bf16 (autocast) or fp16 (autocast + gradient scaler)."),
    bf16: bool = typer.Option(False, "--bf16", hidden=True, help="Deprecated: --precision bf16."),
    channels_last: bool = typer.Option(False, "--channels-last", help="channels_last memory format."),
    device: str = options.DEVICE,
    workers: int | None = options.WORKERS,
    accum: int = options.ACCUM,
    tf32: bool = options.TF32,
    compile: bool = options.COMPILE,
    deterministic: bool = options.DETERMINISTIC,
    ema: float = typer.Option(0.0, "--ema", help="EMA decay of exported weights (0 = off)."),
    negatives: str = typer.Option("both", "--negatives", help="Contrastive negatives to keep: both (default), rain or detail (the ablation)."),
    settings: list[str] = typer.Option([], "--set", help="Any training setting as key=value; model.KEY=VALUE for the backbone."),
    init: Path | None = typer.Option(
        None, "--init", help="Start from a published checkpoint of a spandrel backbone (.pth/.ckpt/.safetensors) that fits --config."
    ),
    evaluate: bool = typer.Option(True, "--evaluate/--no-evaluate", help="Evaluate on the test sets after training."),
    eval_every: int = typer.Option(0, "--eval-every", help="Also score the test sets every N iterations (a learning curve in TensorBoard and metrics.json); 0 = off."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Train a backbone (with CoIC by default), then evaluate it on every test set of its data."""
    from ..training import TrainConfig, Trainer, evaluate_run
    from ..training.evaluate_run import TrainedRun

    if batch is not None and batch < 1:
        raise ZooError(f"--batch {batch} must be at least 1")
    if bf16 and precision not in ("fp32", "bf16"):
        raise ZooError(f"--bf16 contradicts --precision {precision}; pass one of them")
    if bf16:
        deprecated("zoo train --bf16", "zoo train --precision bf16")
        precision = "bf16"
    run_time = options.runtime(device, workers, accum, tf32, compile, deterministic)
    if resume is not None:
        given = {
            "coic": coic, "config": config, "data": data, "root": str(root) if root else None, "seed": seed,
            "stage1_iters": stage1_iters, "batch": batch, "crop": crop, "precision": precision,
            "channels_last": channels_last, "ema": ema, "allow_partial": allow_partial,
            "dataset_roots": _dataset_roots(dataset_root), "negatives": negatives,
            "init": str(init) if init else None,
        }
        cli_names = {"dataset_roots": ("dataset_root",), "precision": ("precision", "bf16")}
        explicit = {key: value for key, value in given.items() if any(_given(ctx, n) for n in cli_names.get(key, (key,)))}
        _check_resume(resume, backbone, explicit, settings)
        trainer = Trainer.resume(resume, iters=iters, runtime=run_time)
        console.print(f"resuming {resume} at step {trainer.step} of {trainer.cfg.iters}")
    else:
        cfg = TrainConfig(
            backbone=backbone, coic=coic, config=config, data=data, root=str(root) if root else None, seed=seed,
            iters=iters, stage1_iters=stage1_iters, batch=batch, crop=crop, precision=precision,
            channels_last=channels_last, ema=ema, allow_partial=allow_partial, dataset_roots=_dataset_roots(dataset_root),
            negatives=negatives, init=str(init) if init else None, eval_every=eval_every,
        ).with_settings(settings)
        trainer = Trainer(cfg, out, overwrite=overwrite, runtime=run_time)
    try:
        cfg = trainer.cfg
        if trainer.dist.main:
            execution = trainer.execution()
            console.print(
                f"training {cfg.backbone} ({cfg.config}, {'CoIC' if cfg.coic else 'baseline'}) on {cfg.data}: "
                f"{cfg.iters} iterations ({cfg.stage1_iters if cfg.coic else cfg.iters} in stage 1), "
                f"{options.batch_line(execution)}, crop {cfg.crop}, {cfg.loss} loss{_negatives_note(cfg)}, {cfg.precision} on "
                f"{execution['device']} -> {trainer.run_dir}"
            )
        with make_progress(progress and trainer.dist.main, console) as bar:
            trainer.fit(progress=bar)
        if trainer.dist.main:
            console.print(f"trained in {trainer.wall_time:.0f} s of compute; weights in {trainer.run_dir}")
            if evaluate:
                held = TrainedRun(cfg, trainer.run_record, trainer.export_model())  # nothing is read back from the folder
                metrics = evaluate_run(trainer.run_dir, on_set=_announce, device=str(trainer.device), trained=held)
                print_table(trainer.run_dir, metrics, cfg)
    finally:
        trainer.close()


def _negatives_note(cfg) -> str:
    return f", contrastive negatives: {cfg.negatives} only" if cfg.coic and cfg.negatives != "both" else ""


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether option `name` was given on the command line (or the environment), not left at its default."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def _check_resume(run_dir: Path, backbone: str, explicit: dict[str, object], settings: list[str]) -> None:
    """Refuse `--resume` of a run whose backbone or settings differ from what the command line asks for.

    The run continues with its own config.json either way; a different backbone or option on the
    command line means the user is pointing at the wrong folder (or expects a change that would not happen).
    """
    from dataclasses import replace

    from ..training.runs import run_config

    found = run_config(run_dir)
    wanted = replace(found, backbone=backbone, **explicit).with_settings(settings)  # type: ignore[arg-type]
    diffs = [
        f"{name} {getattr(wanted, name)!r} (the run: {getattr(found, name)!r})"
        for name in wanted.differences(found, ignore=("iters",))
    ]
    if diffs:
        raise ZooError(
            f"--resume {run_dir}: this command asks for {'; '.join(diffs[:4])}, but a run continues with its own "
            f"settings; resume it as `zoo train {found.backbone} --resume {run_dir}` (--iters may change), "
            "or start a new run with --out"
        )


def _dataset_roots(items: list[str]) -> dict[str, str]:
    roots = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ZooError(f"--dataset-root '{item}' is not NAME=DIR (e.g. --dataset-root rain200h=/data/Rain200H)")
        roots[name.strip().lower()] = path
    return roots


def evaluate_cmd(
    run_dir: Path = typer.Argument(
        ..., metavar="RUN", help="A run directory written by `zoo train`, or a checkpoint file `zoo convert` reads (.pth, .ckpt, .safetensors)."
    ),
    data: str | None = typer.Option(
        None, "--data", help="Evaluate on other data than the run trained on; noref: the photos in --root, no ground truth."
    ),
    root: Path | None = typer.Option(None, "--root", help="Folder holding one folder per real dataset (--data noref: the photos)."),
    device: str = options.DEVICE,
    backbone: str | None = typer.Option(None, "--backbone", "-b", help="Checkpoint file: the backbone of an official CoIC checkpoint (default: detected by spandrel)."),
    encoder: Path | None = typer.Option(None, "--encoder", "-e", help="Checkpoint file: the official encoder of a CoIC checkpoint."),
    baseline: bool = typer.Option(False, "--baseline", help="Checkpoint file: an official checkpoint trained without CoIC."),
    protocol: str | None = typer.Option(None, "--protocol", help="Checkpoint file: the metric protocol (default y-matlab); a run keeps its own."),
    allow_random_encoder: bool = options.ALLOW_RANDOM_ENCODER,
) -> None:
    """Re-evaluate a run and print its table (with the baseline column when a baseline run is beside it), or
    evaluate a checkpoint file directly (converted on the fly as `zoo convert` would).

    Tiling: images larger than the backbone's official test tile are restored in tiles as its official evaluation does (512 pixels, IDT 128, overlap 0; a run's `--set eval_tile=N` overrides it), so scores compare with the papers'.

    `zoo derain` differs on purpose: it restores whole images unless --tile N, and then blends overlapping tiles."""
    if run_dir.is_file():
        from .evaluate_file import evaluate_file

        evaluate_file(run_dir, data, root, device, backbone, encoder, baseline, protocol)
        return
    if backbone is not None or encoder is not None or baseline or protocol is not None:
        raise ZooError(f"{run_dir}: --backbone, --encoder, --baseline and --protocol are for checkpoint files; a run keeps its own")
    from ..models.files import METRICS_FILE
    from ..training import evaluate_run

    metrics = evaluate_run(run_dir, data, root, on_set=_announce, device=device, allow_random_encoder=allow_random_encoder)
    if metrics["file"] != METRICS_FILE:  # the run's own scores stay where `zoo bench` and `zoo push` read them
        console.print(f"wrote {run_dir / metrics['file']} (not {METRICS_FILE}: that holds the run's own evaluation)", highlight=False)
    print_table(run_dir, metrics)


def _announce(name: str, n_images: int) -> None:
    console.print(f"evaluating {name} ({n_images} images)", style="dim")


def print_table(run_dir: Path, metrics: dict | None = None, cfg: TrainConfig | None = None) -> None:
    """The run's per-dataset table (of `metrics`, default its `metrics.json`; settings `cfg`, default its
    config.json); with a matching baseline beside it, a CoIC-minus-baseline column from the baseline's
    evaluation of the same kind."""
    from rich.table import Table

    from ..evaluation.metric_table import format_value as fmt
    from ..models.checkpoint import read_metrics
    from ..training.runs import find_baseline, run_config

    cfg = cfg if cfg is not None else run_config(run_dir)
    metrics = metrics if metrics is not None else read_metrics(run_dir)
    if metrics is None:
        console.print(f"{run_dir}: not evaluated yet; run `zoo evaluate {run_dir}`")
        return
    baseline_dir = find_baseline(run_dir, cfg) if cfg.coic else None
    baseline = read_metrics(baseline_dir, _baseline_file(baseline_dir, metrics)) if baseline_dir else None
    method = "CoIC" if cfg.coic else "baseline"
    from .noref import print_noref_table

    title = f"{cfg.backbone} ({cfg.config}, {method}) on {metrics['data']}"
    for note in metrics.get("notes", []):
        console.print(f"note: {note}", style="dim", highlight=False, markup=False)
    paired = {name: r for name, r in metrics["datasets"].items() if "psnr" in r}
    if not paired:
        print_noref_table(console, metrics, title)
        return
    table = Table(title=f"{title} — PSNR/SSIM protocol: {metrics['protocol']}")
    for column in ("dataset", "n", "input PSNR", "output PSNR", "input SSIM", "output SSIM"):
        table.add_column(column, justify="right" if column != "dataset" else "left")
    if baseline is not None:
        table.add_column("Δ PSNR vs baseline", justify="right")
        table.add_column("Δ SSIM vs baseline", justify="right")
    for name, r in paired.items():
        cells = [name, str(r["n_images"]), *(fmt(m, r[m]) for m in ("input_psnr", "psnr", "input_ssim", "ssim"))]
        if baseline is not None:
            other = baseline["datasets"].get(name)
            cells += [fmt(m, r[m] - other[m], signed=True) for m in ("psnr", "ssim")] if other else ["-", "-"]
        table.add_row(*cells)
    console.print(table)
    print_noref_table(console, metrics, title)
    if baseline_dir is not None:
        console.print(f"baseline: {baseline_dir}")
    elif cfg.coic:
        console.print(f"no matching baseline beside this run; train one with `zoo train {cfg.backbone} --no-coic --out {run_dir.parent}/...` (same seed, data, iterations)", style="dim")


def _baseline_file(baseline_dir: Path, metrics: dict) -> str:
    """The baseline's file comparable with `metrics`: its evaluation on the same data and root (it has no encoder)."""
    from ..models.files import METRICS_FILE
    from ..training.metrics_files import metrics_name
    from ..training.runs import run_config

    if not isinstance(metrics.get("evaluation"), dict):
        return METRICS_FILE
    return metrics_name(run_config(baseline_dir), {**metrics["evaluation"], "encoder": None})


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("evaluate")(evaluate_cmd)
