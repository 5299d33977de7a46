"""Training throughput (images/s) and peak GPU memory of each paper-size backbone at its official
crop and batch: baseline vs CoIC (stage 2: encoder, momentum copy, contrastive views, modulated
kernels), fp32 (TF32 on, the default) vs bf16 autocast. Optional: `ZOO_BENCH_COMPILE=1` adds
`torch.compile` of the backbone (bf16, baseline).

Each round is `STEPS` full trainer steps on one batch already in host memory (copy to the GPU,
forward, losses, backward, optimiser steps; no data loading), timed after a CUDA synchronize. The
GPU cases skip without CUDA; `test_cpu_throughput` is the small case a CPU can afford: tiny BRN
with its CPU recipe (batch 8, crop 64). Paper-size BRN (batch 12, crop 100) takes minutes per step
on two busy cores.

    pytest benchmarks/test_gpu_throughput.py --benchmark-group-by=param:backbone \
        --benchmark-columns=median,rounds
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from zoo.data.mixing import MixedPatches, training_sources
from zoo.evaluation.devices import peak_memory_gib, reset_peak_memory, synchronize
from zoo.training.config import TrainConfig
from zoo.training.runtime import Runtime
from zoo.training.trainer import Trainer

BACKBONES = ("brn", "rcdnet", "dgunet", "idt", "drsformer")
STEPS = 5
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _trainer(
    tmp_path: Path, backbone: str, coic: bool, precision: str, runtime: Runtime, config: str = "paper"
) -> tuple[Trainer, dict[str, torch.Tensor]]:
    cfg = TrainConfig(backbone, coic=coic, config=config, iters=10_000, stage1_iters=0, precision=precision, ckpt_every=10_000)
    trainer = Trainer(cfg, tmp_path / "run", runtime=runtime)
    crop = trainer.cfg.crop
    sources = training_sources("synthmix", synth_count=4, synth_size=max(crop, 96))  # type: ignore[type-var]
    data = MixedPatches(sources, crop, contrastive=coic)  # type: ignore[arg-type]
    samples = [data[k] for k in range(trainer.cfg.batch)]  # type: ignore[arg-type]
    batch = {key: torch.stack([s[key] for s in samples]) for key in samples[0]}
    return trainer, batch


def _measure(benchmark, trainer: Trainer, batch: dict[str, torch.Tensor], rounds: int, count: int = STEPS) -> None:
    def steps() -> None:
        for _ in range(count):
            trainer.train_step(batch)
        synchronize(trainer.device)

    steps()  # first steps: cuDNN autotuning, compilation, allocator growth
    reset_peak_memory(trainer.device)
    benchmark.pedantic(steps, rounds=rounds, warmup_rounds=0)
    images = count * trainer.cfg.batch  # type: ignore[operator]
    benchmark.extra_info["images_per_s"] = round(images / benchmark.stats.stats.median, 1)
    peak = peak_memory_gib(trainer.device)
    benchmark.extra_info["peak_memory_gib"] = None if peak is None else round(peak, 2)
    benchmark.extra_info["batch"], benchmark.extra_info["crop"] = trainer.cfg.batch, trainer.cfg.crop


@CUDA
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("coic", [False, True], ids=["baseline", "coic"])
@pytest.mark.parametrize("backbone", BACKBONES)
def test_gpu_throughput(benchmark, tmp_path: Path, backbone: str, coic: bool, precision: str) -> None:
    trainer, batch = _trainer(tmp_path, backbone, coic, precision, Runtime(device="cuda", workers=0))
    benchmark.group = f"{backbone} paper, batch {trainer.cfg.batch}, crop {trainer.cfg.crop}, {STEPS} steps"
    _measure(benchmark, trainer, batch, rounds=3)


@CUDA
@pytest.mark.skipif(os.environ.get("ZOO_BENCH_COMPILE") != "1", reason="set ZOO_BENCH_COMPILE=1 (compiling takes minutes)")
@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("backbone", BACKBONES)
def test_gpu_compile(benchmark, tmp_path: Path, backbone: str, compiled: bool) -> None:
    trainer, batch = _trainer(tmp_path, backbone, False, "bf16", Runtime(device="cuda", workers=0, compile=compiled))
    benchmark.group = f"{backbone} paper baseline bf16, eager vs torch.compile"
    _measure(benchmark, trainer, batch, rounds=3)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("coic", [False, True], ids=["baseline", "coic"])
def test_cpu_throughput(benchmark, tmp_path: Path, coic: bool, precision: str) -> None:
    trainer, batch = _trainer(tmp_path, "brn", coic, precision, Runtime(device="cpu", workers=0), config="tiny")
    benchmark.group = f"brn tiny on the CPU, batch {trainer.cfg.batch}, crop {trainer.cfg.crop}, {STEPS} steps"
    _measure(benchmark, trainer, batch, rounds=3)
