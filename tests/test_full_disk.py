"""A full disk at any write (the first checkpoint, a model folder, a store part, an analysis PNG) ends in the
one-line "no space" error, and whatever was there before survives (issue 25).

The disk fills part-way through the write (`tests/full_disk.py`), as a real one does: the file
objects of the atomic writer's temporary files raise OSError(ENOSPC). The first checkpoint of a run
used to die in torch's zip writer with `RuntimeError: [enforce fail at inline_container.cc:...]`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

import zoo
from tests.cli_runner import run_cli
from tests.full_disk import TEMP, full_disk
from zoo.errors import DiskFullError
from zoo.evaluation.records import make_row
from zoo.results.store import ResultsStore
from zoo.training import TrainConfig, Trainer

TINY = {"iters": 2, "stage1_iters": 0, "batch": 2, "crop": 32, "synth_count": 2, "synth_size": 48, "eval_count": 1, "eval_size": 48}
TRAIN = ["train", "brn", "--iters", "2", "--stage1-iters", "0", "--batch", "2", "--crop", "32", "--set", "synth_count=2",
         "--set", "synth_size=48", "--no-progress", "--no-evaluate"]


def _files(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()} if folder.is_dir() else {}


def _no_temps(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if TEMP.match(p.name)], f"temporary files left in {folder}"


def _one_line_full(message: str, name: str) -> None:
    assert "\n" not in message and f"{name}: no space left on the device" in message, message


def test_first_checkpoint_of_a_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "run"
    trainer = Trainer(TrainConfig("brn", **TINY), run)
    full_disk(monkeypatch)
    with pytest.raises(DiskFullError) as info:
        trainer.fit()
    _one_line_full(str(info.value), "train_state.pt")
    assert "no partial train_state.pt is left behind" in str(info.value)
    _no_temps(run)
    assert not (run / "train_state.pt").exists() and not (run / "config.json").exists()
    monkeypatch.undo()
    Trainer(TrainConfig("brn", **TINY), run).fit()  # the same folder trains once there is room again
    assert (run / "train_state.pt").is_file()


def test_first_checkpoint_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    full_disk(monkeypatch)
    code, out, err = run_cli([*TRAIN, "--out", str(tmp_path / "run")], monkeypatch, capsys)
    assert code == 1, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "train_state.pt: no space left on the device" in lines[0] and "Traceback" not in out + err
    assert "inline_container" not in err


def test_model_folder_first_write_and_rewrite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zoo.models.checkpoint import save_model_dir

    model = zoo.create_model("brn", coic=True)
    with monkeypatch.context() as patch:
        full_disk(patch)
        with pytest.raises(DiskFullError) as info:
            save_model_dir(model, tmp_path / "new")
    _one_line_full(str(info.value), "model.safetensors")
    assert _files(tmp_path / "new") == {}
    save_model_dir(model, tmp_path / "old")
    before = _files(tmp_path / "old")
    torch.nn.init.zeros_(next(model.parameters()))
    full_disk(monkeypatch)
    with pytest.raises(DiskFullError, match="the previous model.safetensors is kept"):
        save_model_dir(model, tmp_path / "old")
    assert _files(tmp_path / "old") == before
    _no_temps(tmp_path / "old")


def test_store_part_first_append_and_later(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    row = make_row(run="r", backbone="brn", config="tiny", method="coic", train_data="synthmix", eval_dataset="light",
                   metric="psnr", protocol="y-matlab", value=30.0, n_images=1, iterations=1, seed=0, source="measured")
    with monkeypatch.context() as patch:
        full_disk(patch, after=16)
        with pytest.raises(DiskFullError) as info:
            ResultsStore(tmp_path / "store").append([row])
    assert "part-" in str(info.value) and "no space left on the device" in str(info.value)
    assert _files(tmp_path / "store") == {}
    ResultsStore(tmp_path / "store").append([row])
    before = _files(tmp_path / "store")
    full_disk(monkeypatch, after=16)
    with pytest.raises(DiskFullError):
        ResultsStore(tmp_path / "store").append([{**row, "seed": 1}])
    assert _files(tmp_path / "store") == before
    _no_temps(tmp_path / "store")


def test_analysis_png_keeps_the_previous_figure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zoo.analysis.figures import pyplot, save_figure

    plt = pyplot()
    fig, axis = plt.subplots()
    axis.plot([0, 1], [1, 0])
    save_figure(fig, tmp_path / "figure.png")
    before = _files(tmp_path)
    fig, axis = plt.subplots()
    axis.plot([0, 1], [0, 1])
    full_disk(monkeypatch)
    with pytest.raises(DiskFullError) as info:
        save_figure(fig, tmp_path / "figure.png")
    plt.close(fig)
    _one_line_full(str(info.value), "figure.png")
    assert "the previous figure.png is kept" in str(info.value)
    assert _files(tmp_path) == before
    _no_temps(tmp_path)


def test_analysis_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    Trainer(TrainConfig("brn", **TINY), run).fit()
    full_disk(monkeypatch)
    args = ["analyze", "cost", str(run), "--size", "32", "--repeats", "1", "--warmup", "0", "--no-progress"]
    code, out, err = run_cli(args, monkeypatch, capsys)
    assert code == 1, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "no space left on the device" in lines[0] and "Traceback" not in out + err
    assert _files(run / "analysis") == {}  # the first file failed: nothing, not half a file
