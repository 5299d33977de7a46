"""A checkpoint holding pickled code is refused with one clear line, whatever PyTorch's wording (issue 25).

torch 2.14 refuses a blocked module (`os.system`) as `unsupported GLOBAL posix.system`, other classes
as `Unsupported global: GLOBAL x.Y`; the old check matched the second only, so the first came out as
"unrecognised format; download it again". Every path that reads a `.pth` says
`FILE holds pickled code (class X); coic-zoo loads only tensors: ...`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from tests.cli_runner import run_cli
from zoo.errors import CheckpointError
from zoo.models.convert import load_official_state
from zoo.models.convert.external import read_checkpoint
from zoo.models.torch_load import short_reason


class _System:
    def __reduce__(self) -> tuple:
        return (os.system, ("echo this must never run",))


class _Object:
    pass


PAYLOADS = {"os.system": (_System, "posix.system" if os.name == "posix" else "nt.system"),
            "a class": (_Object, f"{__name__}._Object"), "a module": (lambda: torch.nn.Linear(2, 2), "torch.nn.modules.linear.Linear")}


@pytest.mark.parametrize("kind", list(PAYLOADS))
def test_every_reader_names_the_pickled_class(kind: str, tmp_path: Path) -> None:
    make, name = PAYLOADS[kind]
    path = tmp_path / "model.pth"
    torch.save({"weight": torch.zeros(2), "payload": make()}, path)
    expected = f"{path} holds pickled code (class {name}); coic-zoo loads only tensors: "
    for reader in (load_official_state, read_checkpoint):
        with pytest.raises(CheckpointError) as info:
            reader(path)
        assert str(info.value).startswith(expected) and "\n" not in str(info.value), str(info.value)


def test_a_train_state_with_pickled_code_is_refused_on_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from zoo.training import TrainConfig, Trainer

    run = tmp_path / "run"
    Trainer(TrainConfig("brn", iters=1, stage1_iters=0, batch=2, crop=32, synth_count=2, synth_size=48), run).fit()
    torch.save({"step": 1, "payload": _System()}, run / "train_state.pt")
    code, out, err = run_cli(["train", "brn", "--resume", str(run), "--no-progress"], monkeypatch, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    assert f"{run / 'train_state.pt'} holds pickled code (class posix.system); coic-zoo loads only tensors" in " ".join(err.split())


def test_convert_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    torch.save({"payload": _System()}, tmp_path / "code.pth")
    code, out, err = run_cli(["convert", str(tmp_path / "code.pth"), "-b", "brn", "-o", str(tmp_path / "out")], monkeypatch, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "holds pickled code (class posix.system)" in err and "unrecognised format" not in err
    assert not (tmp_path / "out").exists()


def test_short_reason_never_cuts_a_word() -> None:
    err = RuntimeError("Weights only load failed. This file can still be loaded, to do so you have two options, do those steps")
    text = short_reason(err, 60)
    assert text.endswith(" …") and text[:-2] == "Weights only load failed. This file can still be loaded, to"
