"""Training and evaluation on CUDA: resume bit-identical with deterministic kernels, runs moving between
GPU and CPU, mixed precision, compile, and NCCL DDP on two GPUs. Every test skips without CUDA."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

# cuBLAS reads this once, at its first call in the process: set it before any test touches CUDA.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

from zoo.models.files import STATE_FILE  # noqa: E402
from zoo.training.config import TrainConfig  # noqa: E402
from zoo.training.evaluate_run import evaluate_run  # noqa: E402
from zoo.training.runtime import Runtime  # noqa: E402
from zoo.training.trainer import Trainer  # noqa: E402

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
TWO_GPUS = pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA GPUs")
SMALL = {"crop": 32, "synth_count": 8, "synth_size": 48, "ckpt_every": 100, "log_every": 1}
GPU = Runtime(device="cuda", workers=0, tf32=False, deterministic=True)
CPU = Runtime(device="cpu", workers=0)


@pytest.fixture
def deterministic() -> Iterator[None]:
    yield
    torch.use_deterministic_algorithms(False)  # the trainer turned it on for the whole process


def _weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in trainer.model.state_dict().items()}


@CUDA
def test_cuda_train_and_resume_is_bit_identical(tmp_path: Path, deterministic: None) -> None:
    cfg = TrainConfig("brn", coic=True, iters=6, stage1_iters=2, batch=4, ema=0.9, **SMALL)
    whole = Trainer(cfg, tmp_path / "whole", runtime=GPU)
    whole.fit()
    assert next(whole.model.parameters()).device.type == "cuda"
    assert next(whole.ema.parameters()).device.type == "cuda"
    first = Trainer(cfg, tmp_path / "resumed", runtime=GPU)
    first.fit(stop_after=3)
    first.checkpoint()
    del first
    resumed = Trainer.resume(tmp_path / "resumed", runtime=GPU)
    resumed.fit()
    a, b = _weights(whole), _weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)
    run = json.loads((tmp_path / "whole" / "config.json").read_text())["run"]
    assert "cuda:0" in run["device"] and run["peak_memory_gib"] > 0 and run["images_per_s"] > 0


@CUDA
def test_a_gpu_run_continues_on_the_cpu_and_a_cpu_run_on_the_gpu(tmp_path: Path, deterministic: None) -> None:
    cfg = TrainConfig("brn", coic=True, iters=4, stage1_iters=1, batch=4, **SMALL)
    for start, finish in ((GPU, CPU), (CPU, GPU)):
        run = tmp_path / f"{start.device}-to-{finish.device}"
        first = Trainer(cfg, run, runtime=start)
        first.fit(stop_after=2)
        first.checkpoint()
        state = torch.load(run / STATE_FILE, map_location="cpu", weights_only=True)
        assert state["step"] == 2
        resumed = Trainer.resume(run, runtime=finish)
        assert resumed.device.type == finish.device and resumed.step == 2
        resumed.fit()
        moments = resumed.optimizers["base"].state
        assert all(s["exp_avg"].device.type == finish.device for s in moments.values())
        assert resumed.step == 4 and all(torch.isfinite(v).all() for v in _weights(resumed).values())


@CUDA
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_cuda_mixed_precision_with_channels_last(tmp_path: Path, precision: str) -> None:
    cfg = TrainConfig("brn", coic=True, iters=3, stage1_iters=1, batch=4, precision=precision, channels_last=True, **SMALL)
    trainer = Trainer(cfg, tmp_path / "run", runtime=Runtime(device="cuda", workers=2))
    trainer.fit()
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in trainer.log.history)
    state = torch.load(tmp_path / "run" / STATE_FILE, map_location="cpu", weights_only=True)
    assert (state["scaler"] is not None) == (precision == "fp16")


@CUDA
def test_compiled_backbone_trains_and_saves_plain_names(tmp_path: Path) -> None:
    cfg = TrainConfig("brn", coic=False, iters=2, batch=4, **SMALL)
    plain = Trainer(cfg, tmp_path / "plain", runtime=Runtime(device="cuda", workers=0, tf32=False))
    compiled = Trainer(cfg, tmp_path / "compiled", runtime=Runtime(device="cuda", workers=0, tf32=False, compile=True))
    plain.fit()
    compiled.fit()
    a, b = _weights(plain), _weights(compiled)
    assert a.keys() == b.keys()
    assert all(torch.allclose(a[k], b[k], atol=1e-4) for k in a)


@CUDA
def test_evaluation_on_cuda_matches_the_cpu(tmp_path: Path) -> None:
    cfg = TrainConfig("brn", coic=True, iters=2, stage1_iters=1, batch=4, eval_count=2, eval_size=64, **SMALL)
    trainer = Trainer(cfg, tmp_path / "run", runtime=CPU)
    trainer.fit()
    cpu = evaluate_run(tmp_path / "run", device="cpu")
    gpu = evaluate_run(tmp_path / "run", device="cuda")
    for name, scores in cpu["datasets"].items():
        assert gpu["datasets"][name]["psnr"] == pytest.approx(scores["psnr"], abs=0.01), name


@TWO_GPUS
def test_nccl_ddp_on_two_gpus_equals_one_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deterministic: None) -> None:
    from tests.ddp_worker import CUDA_RUNTIME, EQUIVALENT

    worker = Path(__file__).with_name("ddp_worker.py")
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(worker), str(tmp_path), "cuda"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert [(tmp_path / f"equivalent-rank{r}.device").read_text() for r in (0, 1)] == ["cuda:0", "cuda:1"]
    ranks = [load_file(str(tmp_path / f"equivalent-rank{r}.safetensors")) for r in (0, 1)]
    read = [json.loads((tmp_path / f"equivalent-rank{r}.json").read_text()) for r in (0, 1)]
    assert all(torch.equal(ranks[0][k], ranks[1][k]) for k in ranks[0])
    assert not set(read[0]) & set(read[1])
    single = Trainer(EQUIVALENT, tmp_path / "single", runtime=CUDA_RUNTIME)
    single.fit()
    expected = _weights(single)
    assert all(torch.allclose(ranks[0][k], expected[k], rtol=0, atol=1e-5) for k in expected)
    coic = [load_file(str(tmp_path / f"consistent-rank{r}.safetensors")) for r in (0, 1)]
    assert all(torch.equal(coic[0][k], coic[1][k]) for k in coic[0])
