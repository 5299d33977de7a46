"""A CoIC folder without its encoder is refused everywhere unless asked for, and labelled when it is;
`metrics.json` only ever holds the run's own evaluation (issue 25, "nothing silently wrong")."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torch

import zoo
from tests.cli_runner import run_cli
from zoo.errors import CheckpointError
from zoo.models.checkpoint import has_random_encoder, load_model_dir
from zoo.training import TrainConfig, Trainer, evaluate_run

TINY = {"iters": 1, "stage1_iters": 0, "batch": 2, "crop": 32, "synth_count": 2, "synth_size": 48, "eval_count": 1, "eval_size": 48}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-step CoIC run, evaluated (so it has its own metrics.json)."""
    torch.set_num_threads(1)
    run = tmp_path_factory.mktemp("random-encoder") / "run"
    Trainer(TrainConfig("brn", coic=True, **TINY), run).fit()
    evaluate_run(run, device="cpu")
    return run


@pytest.fixture
def no_encoder(trained: Path, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    (run / "encoder.safetensors").unlink()
    return run


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_loader_refuses_a_coic_folder_without_its_encoder(no_encoder: Path) -> None:
    with pytest.raises(CheckpointError) as info:
        zoo.create_model(f"local-dir:{no_encoder}")
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{no_encoder / 'encoder.safetensors'}: missing")
    assert "--allow-random-encoder" in message
    model = zoo.create_model(f"local-dir:{no_encoder}", allow_random_encoder=True)
    assert isinstance(model, zoo.CoICModel) and has_random_encoder(model)


def test_a_complete_folder_is_not_labelled(trained: Path) -> None:
    assert not has_random_encoder(load_model_dir(trained, allow_random_encoder=True))


def test_evaluate_refuses_then_labels_and_keeps_metrics_json(
    no_encoder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    kept = _sha(no_encoder / "metrics.json")
    code, out, err = run_cli(["evaluate", str(no_encoder), "--device", "cpu"], monkeypatch, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "encoder.safetensors: missing" in err and "Traceback" not in err
    code, out, err = run_cli(["evaluate", str(no_encoder), "--device", "cpu", "--allow-random-encoder"], monkeypatch, capsys)
    assert code == 0, err
    side = no_encoder / "metrics-synthmix-random-encoder.json"
    assert f"wrote {side}" in " ".join(out.split()) and "random encoder" in out
    assert _sha(no_encoder / "metrics.json") == kept
    metrics = json.loads(side.read_text())
    assert metrics["evaluation"]["encoder"] == "random" and metrics["file"] == side.name
    assert {row["implementation"] for row in metrics["rows"]} == {"random encoder"}
    assert any("randomly initialised encoder" in note for note in metrics["notes"])


def test_other_data_goes_to_a_side_file(trained: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    kept = _sha(run / "metrics.json")
    metrics = evaluate_run(run, data="synthmix:2", device="cpu")
    assert metrics["file"] == "metrics-synthmix2.json" and (run / "metrics-synthmix2.json").is_file()
    assert _sha(run / "metrics.json") == kept
    own = evaluate_run(run, device="cpu")  # the run's own evaluation replaces its own file only
    assert own["file"] == "metrics.json" and own["evaluation"]["encoder"] == "trained"


def test_a_metrics_json_of_another_evaluation_is_moved_aside_not_overwritten(trained: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    legacy = {"protocol": "y-matlab", "data": "rain200l", "rows": [{"metric": "psnr", "value": 1.0}]}
    (run / "metrics.json").write_text(json.dumps(legacy))  # what `zoo evaluate --data rain200l` wrote before side files
    metrics = evaluate_run(run, device="cpu")
    assert json.loads((run / "metrics-rain200l.json").read_text()) == legacy
    assert metrics["file"] == "metrics.json" and any("moved to metrics-rain200l.json" in n for n in metrics["notes"])


def test_push_refuses_a_coic_folder_without_its_encoder(
    no_encoder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # never reached: refused before any request
    code, _, err = run_cli(["push", str(no_encoder), "--repo", "org/name"], monkeypatch, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "encoder.safetensors: missing" in err and "--allow-random-encoder" in err


def test_analyze_refuses_then_writes_apart(no_encoder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["analyze", "cost", str(no_encoder), "--size", "32", "--repeats", "1", "--warmup", "0", "--no-progress"]
    code, _, err = run_cli(args, monkeypatch, capsys)
    assert code == 2 and "encoder.safetensors: missing" in err and len(err.strip().splitlines()) == 1
    code, out, err = run_cli([*args, "--allow-random-encoder"], monkeypatch, capsys)
    assert code == 0, err
    assert (no_encoder / "analysis-random-encoder" / "cost.csv").is_file() and not (no_encoder / "analysis").exists()
    assert "randomly initialised encoder" in " ".join(out.split())


def test_derain_refuses_then_says_its_outputs_use_a_random_encoder(
    no_encoder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import numpy as np
    from PIL import Image

    Image.fromarray(np.random.default_rng(2).integers(0, 256, (36, 40, 3), dtype=np.uint8)).save(tmp_path / "photo.png")
    args = ["derain", f"local-dir:{no_encoder}", str(tmp_path / "photo.png"), "--out", str(tmp_path / "out")]
    code, _, err = run_cli(args, monkeypatch, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "encoder.safetensors: missing" in err
    assert not (tmp_path / "out").exists()  # nothing written
    code, out, err = run_cli([*args, "--allow-random-encoder"], monkeypatch, capsys)
    assert code == 0 and "random one and will not repeat" in out, err
    assert (tmp_path / "out" / "photo.png").is_file()
