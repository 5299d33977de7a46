"""Paper-scale training on the CPU: --device, precision, accumulation, workers, cross-device resume, cost records."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch

from tests.cli_runner import run_cli
from zoo.bench import load_matrix
from zoo.errors import ZooError
from zoo.evaluation.devices import resolve_device
from zoo.evaluation.records import COLUMNS, make_row
from zoo.models.files import STATE_FILE
from zoo.results.costs import cost_table, render_costs
from zoo.results.store import ResultsStore
from zoo.training.config import TrainConfig
from zoo.training.runtime import Runtime, default_workers
from zoo.training.trainer import Trainer

REPO = Path(__file__).resolve().parents[1]
SMALL = {"crop": 32, "synth_count": 8, "synth_size": 48, "ckpt_every": 100, "log_every": 1}
CPU = Runtime(device="cpu", workers=0)
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the messages of a machine without CUDA")


def _weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in trainer.model.state_dict().items()}


def test_two_accumulation_steps_of_4_equal_one_batch_of_8(tmp_path: Path) -> None:
    cfg = TrainConfig("brn", coic=False, iters=3, batch=8, **SMALL)
    whole = Trainer(cfg, tmp_path / "whole", runtime=CPU)
    whole.fit()
    split = Trainer(cfg, tmp_path / "split", runtime=Runtime(device="cpu", workers=0, accum=2))
    assert split.micro_batch == 4
    split.fit()
    a, b = _weights(whole), _weights(split)
    for key in a:
        assert torch.allclose(a[key], b[key], rtol=0, atol=1e-6), key
    initial = _weights(Trainer(cfg, tmp_path / "fresh", runtime=CPU))
    assert any(not torch.equal(initial[k], a[k]) for k in a), "training changed nothing"
    assert [r["loss"] for r in whole.log.history] == pytest.approx([r["loss"] for r in split.log.history], abs=1e-6)


def test_accumulation_must_divide_the_batch(tmp_path: Path) -> None:
    with pytest.raises(ZooError, match="--batch 6 must be divisible by the 1 process\\(es\\) x 4 accumulation step\\(s\\) = 4"):
        Trainer(TrainConfig("brn", iters=1, batch=6, **SMALL), tmp_path / "run", runtime=Runtime(device="cpu", accum=4))


def test_cli_bf16_with_accumulation_trains_evaluates_and_records_its_cost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    args = [
        "train", "brn", "--device", "cpu", "--precision", "bf16", "--accum", "2", "--workers", "0", "--iters", "2",
        "--stage1-iters", "1", "--batch", "4", "--crop", "32", "--set", "synth_count=4", "--set", "synth_size=48",
        "--set", "eval_count=1", "--set", "eval_size=48", "--out", str(run), "--no-progress",
    ]
    code, out, err = run_cli(args, monkeypatch, capsys)
    assert code == 0, err
    assert "batch 4 = 2 accumulation steps x 2" in out and "bf16 on cpu" in out
    config = json.loads((run / "config.json").read_text())
    assert config["train"]["precision"] == "bf16" and config["train"]["batch"] == 4
    info = config["run"]
    assert (info["effective_batch"], info["accum"], info["micro_batch"], info["processes"]) == (4, 2, 2, 1)
    assert info["device"].startswith("cpu (") and info["images_per_s"] > 0 and info["peak_memory_gib"] is None
    rows = json.loads((run / "metrics.json").read_text())["rows"]
    assert {(r["precision"], r["effective_batch"], r["device"]) for r in rows} == {("bf16", 4, info["device"])}
    assert all(r["images_per_s"] == info["images_per_s"] for r in rows)
    state = torch.load(run / STATE_FILE, map_location="cpu", weights_only=True)
    assert state["step"] == 2 and state["scaler"] is None


def _save_as_if_on_cuda(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rewrite a checkpoint so that every tensor is tagged `cuda:0`, as one saved from a GPU run is."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    with monkeypatch.context() as patch:
        patch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        torch.save(state, path)


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
# fp16's scaler skips overflowed steps while the schedule advances, as intended: the trainer keeps torch's
# warning about that order from the user, and this makes a regression fail here
@pytest.mark.filterwarnings(r"error:Detected call of `lr_scheduler\.step\(\)`:UserWarning")
def test_state_saved_on_a_gpu_resumes_on_the_cpu_bit_identically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, precision: str
) -> None:
    """Through stage 2 (encoders, rain archive, momentum copy) and, for fp16, the gradient scaler's state."""
    cfg = TrainConfig("brn", coic=True, iters=3, stage1_iters=1, batch=4, ema=0.9, precision=precision, **SMALL)
    whole = Trainer(cfg, tmp_path / "whole", runtime=CPU)
    whole.fit()
    first = Trainer(cfg, tmp_path / "moved", runtime=CPU)
    first.fit(stop_after=2)
    first.checkpoint()
    _save_as_if_on_cuda(tmp_path / "moved" / STATE_FILE, monkeypatch)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            torch.load(tmp_path / "moved" / STATE_FILE, weights_only=True)  # really looks like a GPU file
    resumed = Trainer.resume(tmp_path / "moved", runtime=CPU)
    assert resumed.step == 2
    if precision == "fp16":
        assert resumed.scaler is not None and resumed.scaler.state_dict() == first.scaler.state_dict()
    resumed.fit()
    a, b = _weights(whole), _weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert all(torch.equal(x, y) for x, y in zip(whole.ema.state_dict().values(), resumed.ema.state_dict().values()))
    if precision == "fp16":
        assert whole.scaler.state_dict() == resumed.scaler.state_dict()


def test_workers_give_the_same_batches(tmp_path: Path) -> None:
    cfg = TrainConfig("brn", coic=True, iters=3, batch=4, **SMALL)
    batches = []
    for workers in (0, 2):
        trainer = Trainer(cfg, tmp_path / f"w{workers}", runtime=Runtime(device="cpu", workers=workers))
        loader = trainer._loader()
        assert loader.num_workers == workers and loader.persistent_workers == (workers > 0) and not loader.pin_memory
        batches.append(list(loader))
    assert len(batches[0]) == len(batches[1]) == 3
    for a, b in zip(*batches):
        assert all(torch.equal(a[k], b[k]) for k in a)


def test_default_workers_follow_the_cpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    from zoo.training import runtime

    for cpus, on_cpu, on_gpu, per_gpu_of_4 in ((2, 0, 1, 1), (16, 2, 8, 3), (128, 4, 8, 8)):
        monkeypatch.setattr(runtime, "available_cpus", lambda cpus=cpus: cpus)
        assert default_workers(torch.device("cpu")) == on_cpu
        assert default_workers(torch.device("cuda", 0)) == on_gpu
        assert default_workers(torch.device("cuda", 0), local_world=4) == per_gpu_of_4


@NO_CUDA
@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("cuda", "--device cuda: CUDA is not available"),
        ("cuda:1", "--device cuda:1: CUDA is not available"),
        ("gpu", "--device 'gpu' is not a device; use auto"),
        ("cuda:x", "--device 'cuda:x' is not a device"),
    ],
)
def test_bad_or_missing_device_is_one_clear_line(spec: str, message: str) -> None:
    with pytest.raises(ZooError, match=message):
        resolve_device(spec)


def test_auto_device_is_cuda_when_there_is_one_else_cpu() -> None:
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("CPU") == torch.device("cpu")


@NO_CUDA
def test_cli_device_cuda_without_cuda_exits_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["train", "brn", "--out", str(tmp_path / "run")], ["evaluate", str(tmp_path)], ["bench", str(REPO / "benchmarks/matrices/smoke.yaml")]):
        code, out, err = run_cli([*command, "--device", "cuda", "--no-progress"] if command[0] != "evaluate" else [*command, "--device", "cuda"], monkeypatch, capsys)
        assert code == 2, command
        if command[0] != "evaluate":  # evaluate first finds that the folder is not a run
            assert "--device cuda: CUDA is not available" in err and len(err.strip().splitlines()) == 1
        assert "Traceback" not in out + err


def test_precision_is_checked_and_bf16_is_an_alias(tmp_path: Path) -> None:
    with pytest.raises(ZooError, match="--precision fp8: unknown; use fp32, bf16, fp16"):
        TrainConfig("brn", iters=1, precision="fp8").resolved()
    assert TrainConfig("brn").with_settings(["bf16=true"]).precision == "bf16"
    old = TrainConfig("brn").as_dict()
    old.pop("precision")
    old.update(bf16=True, num_workers=2)  # a config.json written before --precision and --workers
    assert TrainConfig.from_dict(old).precision == "bf16"


def test_old_store_rows_read_with_empty_cost_columns_and_the_cost_view(tmp_path: Path) -> None:
    old_columns = [c for c in COLUMNS if c not in ("precision", "effective_batch", "images_per_s", "peak_memory_gib")]
    base = {"backbone": "brn", "config": "tiny", "train_data": "synthmix", "eval_dataset": "light", "metric": "psnr",
            "protocol": "y-matlab", "value": 30.0, "iterations": 10, "seed": 0, "source": "measured"}
    pd.DataFrame([{**base, "run": "old", "method": "baseline", "device": "cpu (x86_64, 1 threads)"}], columns=old_columns).to_csv(
        tmp_path / "part-0-old.csv", index=False)
    ResultsStore(tmp_path).append([make_row(**base, run="new", method="coic", device="NVIDIA H200 (cuda:0)", precision="bf16",
                                            effective_batch=12, images_per_s=512.5, peak_memory_gib=3.25)])
    table = ResultsStore(tmp_path).load()
    assert list(table.columns) == list(COLUMNS) and len(table) == 2
    runs = cost_table(tmp_path)
    assert list(runs["run"]) == ["old", "new"]
    assert pd.isna(runs.loc[0, "images_per_s"]) and runs.loc[1, "images_per_s"] == 512.5
    md = render_costs(runs, "md")
    assert "| brn | tiny | CoIC | 0 | synthmix | 10 | NVIDIA H200 (cuda:0) | bf16 | 12 | 512.5 | 3.25 |" in md
    assert "| brn | tiny | baseline | 0 | synthmix | 10 | cpu (x86_64, 1 threads) | – | – | – | – |" in md


def test_leaderboard_cost_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    ResultsStore(tmp_path).append([make_row(run="r", backbone="idt", config="paper", method="coic", train_data="mix5",
                                            eval_dataset="rain200l", metric="psnr", protocol="y-matlab", value=1.0, seed=0,
                                            source="measured", device="cpu", precision="fp32", images_per_s=2.0)])
    code, out, _ = run_cli(["leaderboard", "--store", str(tmp_path), "--view", "run-cost", "--format", "csv"], monkeypatch, capsys)
    assert code == 0
    frame = pd.read_csv(pd.io.common.StringIO(out))
    assert frame.loc[0, "backbone"] == "idt" and frame.loc[0, "images_per_s"] == 2.0


def test_paper_matrix_is_the_papers() -> None:
    matrix = load_matrix(REPO / "benchmarks" / "matrices" / "paper.yaml")
    cells = matrix.cells()
    assert len(cells) == 5 * 2 * 2 and matrix.config == "paper"
    assert {c.backbone for c in cells} == {"brn", "rcdnet", "dgunet", "idt", "drsformer"}
    assert {c.data for c in cells} == {"mix5", "mix5+spa"} and {c.method for c in cells} == {"baseline", "coic"}
    official = {"brn": (12, 100), "rcdnet": (16, 64), "dgunet": (16, 128), "idt": (8, 128), "drsformer": (4, 128)}
    assert all((c.cfg.batch, c.cfg.crop) == official[c.backbone] and c.cfg.precision == "fp32" for c in cells)
