"""Resume is bit-identical for every training option, and a full disk never costs the last checkpoint.

The resume test trains a run uninterrupted and, separately, stops the same run right after a
checkpoint, throws the trainer away, scrambles the global RNG (as a new process would have it) and
resumes from the folder. Weights, EMA weights, optimiser state and exported files must be equal bit for
bit. IDT's DropPath draws from the global RNG at every step, so that case fails if the trainer stops
restoring the RNG state from `train_state.pt`.

Bit-identity must hold within one machine (here both runs share one process, so one float32 kernel
path): a CPU with another oneDNN/MKL instruction set or thread count rounds the same step differently,
so a run resumed there goes on correctly but not bit for bit, and that is not what this tests.
"""

from __future__ import annotations

import errno
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
import torch
from timm.layers import DropPath

from tests.cli_runner import run_cli
from zoo.errors import DiskFullError
from zoo.models.files import STATE_FILE
from zoo.results.store import ResultsStore
from zoo.training import TrainConfig, Trainer

TINY = {"batch": 2, "crop": 32, "synth_count": 4, "synth_size": 48, "iters": 6, "stage1_iters": 2, "ckpt_every": 3}

OPTIONS = {
    "coic": ("brn", {}),
    "baseline": ("brn", {"coic": False}),
    "ema": ("brn", {"ema": 0.9}),
    "bf16": ("brn", {"precision": "bf16"}),
    "fp16": ("brn", {"precision": "fp16"}),
    "channels-last": ("brn", {"channels_last": True}),
    "idt-drop-path": ("idt", {}),
}


def _config(backbone: str, **changes: Any) -> TrainConfig:
    return TrainConfig(backbone, **{**TINY, **changes})


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _equal_states(a: Any, b: Any, where: str = "state") -> None:
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _equal_states(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _equal_states(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


@pytest.mark.parametrize("option", list(OPTIONS))
def test_resume_is_bit_identical(option: str, tmp_path: Path) -> None:
    backbone, changes = OPTIONS[option]
    cfg = _config(backbone, **changes)
    whole = Trainer(cfg, tmp_path / "whole")
    if option == "idt-drop-path":
        rates = [m.drop_prob for m in whole.model.modules() if isinstance(m, DropPath)]
        assert rates and max(rates) > 0, "IDT's tiny config must keep DropPath on, or this case tests nothing"
    whole.fit()

    part = Trainer(cfg, tmp_path / "part")
    part.fit(stop_after=3)  # the checkpoint of step 3 is written; the "process" dies here
    del part
    torch.manual_seed(12345)
    torch.rand(7)
    resumed = Trainer.resume(tmp_path / "part")
    assert resumed.step == 3
    resumed.fit()

    a, b = whole.state_dict(), resumed.state_dict()
    for key in ("step", "model", "optimizers", "schedulers", "archive", "ema", "rng", "history"):
        _equal_states(a[key], b[key], key)
    for name in ("model.safetensors", "encoder.safetensors"):
        if (whole.run_dir / name).exists() or (resumed.run_dir / name).exists():
            assert _sha(whole.run_dir / name) == _sha(resumed.run_dir / name), name


# --- a full disk -----------------------------------------------------------------------------------


def _fill_disk_after_half(real_write):  # type: ignore[no-untyped-def]
    """A writer that gets half of its bytes onto the disk, then finds it full."""

    def write(data: bytes, path: Path) -> None:
        real_write(path, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    return write


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_disk_full_while_writing_a_checkpoint_keeps_the_last_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trainer = Trainer(_config("brn", iters=4, ckpt_every=2), tmp_path / "run")
    trainer.fit(stop_after=2)
    before = {name: _sha(tmp_path / "run" / name) for name in ("train_state.pt", "model.safetensors", "config.json")}

    real_save = torch.save

    def full_disk_save(obj: Any, f: Any, *args: Any, **kwargs: Any) -> None:
        import io

        buffer = io.BytesIO()
        real_save(obj, buffer, *args, **kwargs)
        f.write(buffer.getvalue()[: buffer.tell() // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk_save)
    with pytest.raises(DiskFullError) as info:
        trainer.fit()
    message = str(info.value)
    assert "\n" not in message and "train_state.pt: no space left on the device" in message
    assert re.search(r"the write needed about \d+\.\d (KiB|MiB), [\d.]+ (bytes|KiB|MiB|GiB) free in ", message), message
    assert "the previous train_state.pt is kept" in message
    assert info.value.exit_code == 1
    assert _leftovers(tmp_path / "run") == []
    assert {name: _sha(tmp_path / "run" / name) for name in before} == before
    monkeypatch.undo()
    resumed = Trainer.resume(tmp_path / "run")
    assert resumed.step == 2


def test_disk_full_while_writing_model_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trainer = Trainer(_config("brn", iters=4, ckpt_every=2), tmp_path / "run")
    trainer.fit(stop_after=2)
    model_before = _sha(tmp_path / "run" / "model.safetensors")
    real = Path.write_bytes

    def write_bytes(self: Path, data: bytes) -> int:
        if self.name.startswith(".model.safetensors."):
            _fill_disk_after_half(real)(data, self)
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    with pytest.raises(DiskFullError, match=r"model.safetensors: no space left on the device; the write needed about \d+\.\d (KiB|MiB)"):
        trainer.fit()
    assert _leftovers(tmp_path / "run") == []
    assert _sha(tmp_path / "run" / "model.safetensors") == model_before
    monkeypatch.undo()
    state = torch.load(tmp_path / "run" / STATE_FILE, map_location="cpu", weights_only=True)
    assert state["step"] == 4  # the state went first; the run resumes from it
    assert Trainer.resume(tmp_path / "run").step == 4


def test_disk_full_while_appending_to_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ResultsStore(tmp_path / "results")
    row = {"run": "r", "backbone": "brn", "config": "tiny", "method": "coic", "train_data": "synthmix",
           "eval_dataset": "light", "metric": "psnr", "protocol": "y-matlab", "value": 30.0, "n_images": 1, "seed": 0,
           "source": "measured"}
    first = store.append([row])
    assert first is not None
    kept = _sha(first)
    real = Path.write_bytes

    def write_bytes(self: Path, data: bytes) -> int:
        if self.name.startswith(".part-"):
            _fill_disk_after_half(real)(data, self)
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    with pytest.raises(DiskFullError, match=r"part-.*\.csv: no space left on the device; the write needed about \d+ bytes"):
        store.append([{**row, "seed": 1}])
    assert _leftovers(tmp_path / "results") == []
    assert list((tmp_path / "results").iterdir()) == [first] and _sha(first) == kept
    assert len(store.load()) == 1


def test_disk_full_on_the_command_line_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    row = {"run": "r", "backbone": "brn", "config": "tiny", "method": "coic", "train_data": "synthmix",
           "eval_dataset": "light", "metric": "psnr", "protocol": "y-matlab", "value": 30.0, "n_images": 1, "seed": 0,
           "source": "measured", "iterations": 10}
    ResultsStore(tmp_path / "results").append([row])
    real = Path.write_bytes

    def write_bytes(self: Path, data: bytes) -> int:
        if self.name.startswith(".board.md."):
            _fill_disk_after_half(real)(data, self)
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    code, out, err = run_cli(["leaderboard", "--store", str(tmp_path / "results"), "--out", str(tmp_path / "board.md")], monkeypatch, capsys)
    assert code == 1, out + err
    assert len(err.strip().splitlines()) == 1 and "board.md: no space left on the device" in err and "Traceback" not in err
    assert not (tmp_path / "board.md").exists() and _leftovers(tmp_path) == []
