"""The atomic writer: files honour the umask whoever creates them, and unwritable places are one-line errors."""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import zoo
from zoo import _atomic
from zoo._atomic import atomic_write_json, current_umask, ensure_folder, remove_stale_temps
from zoo.errors import ZooError


@pytest.fixture
def umask() -> Iterator[None]:
    before = os.umask(0o022)
    yield
    os.umask(before)


def _write_everything(folder: Path) -> list[Path]:
    """One file of each writer the suite uses: JSON, safetensors, torch state, CSV part, PNG."""
    from zoo.data.images import write_png
    from zoo.models.checkpoint import save_model_dir
    from zoo.results.store import ResultsStore
    from zoo.training.runs import save_state

    save_model_dir(zoo.create_model("brn", coic=True), folder / "model")
    save_state(folder / "train_state.pt", {"step": 1, "w": torch.zeros(3)})
    part = ResultsStore(folder / "results").append([{"run": "r", "metric": "psnr", "value": 1.0}])
    write_png(torch.zeros(3, 4, 4), folder / "out.png")
    assert part is not None
    return [*(folder / "model").iterdir(), folder / "train_state.pt", part, folder / "out.png"]


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_written_files_honour_the_umask(mask: int, tmp_path: Path, umask: None) -> None:
    os.umask(mask)
    files = _write_everything(tmp_path)
    assert {p.name for p in files} >= {"config.json", "model.safetensors", "encoder.safetensors", "train_state.pt", "out.png"}
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o666 & ~mask, f"{path.name}: {oct(path.stat().st_mode & 0o777)}"
    assert os.umask(mask) == mask  # reading it left it alone


def test_replacing_a_0600_file_gives_the_umask_mode(tmp_path: Path, umask: None) -> None:
    target = tmp_path / "config.json"
    target.write_text("{}")
    target.chmod(0o600)  # as the old mkstemp-based writer left every file
    atomic_write_json(target, {"a": 1})
    assert target.stat().st_mode & 0o777 == 0o644


def test_a_writer_that_replaces_the_temporary_file_still_gets_the_umask_mode(tmp_path: Path, umask: None) -> None:
    from safetensors.torch import save_file

    # safetensors' own writer makes a 0600 temporary file and renames it onto the path it is given.
    target = _atomic.atomic_write(tmp_path / "w.safetensors", lambda tmp: save_file({"w": torch.zeros(2)}, str(tmp)))
    assert target.stat().st_mode & 0o777 == 0o644


def test_umask_is_read_without_proc(monkeypatch: pytest.MonkeyPatch, umask: None) -> None:
    os.umask(0o027)
    assert current_umask() == 0o027

    def no_proc(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path) == "/proc/self/status":
            raise FileNotFoundError(path)
        return builtins.open(path, *args, **kwargs)

    monkeypatch.setattr(_atomic, "open", no_proc, raising=False)
    assert current_umask() == 0o027
    assert os.umask(0o027) == 0o027


def test_unwritable_places_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ZooError, match=r"file is a file, not a folder"):
        ensure_folder(tmp_path / "file")
    with pytest.raises(ZooError, match=r"cannot create a folder there because .*file is a file"):
        atomic_write_json(tmp_path / "file" / "sub" / "x.json", {})
    with pytest.raises(ZooError, match=r"is a folder; a file cannot be written there"):
        atomic_write_json(tmp_path, {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_failed_write_leaves_no_temporary_file_and_keeps_the_old(tmp_path: Path) -> None:
    target = atomic_write_json(tmp_path / "a.json", {"old": True})

    def broken(tmp: Path) -> None:
        tmp.write_text("half")
        raise RuntimeError("writer crashed")

    with pytest.raises(RuntimeError):
        _atomic.atomic_write(target, broken)
    assert target.read_text() == '{\n  "old": true\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_stale_temporary_files_are_removed_only_by_pattern(tmp_path: Path) -> None:
    stale = tmp_path / ".train_state.pt.0123abcd.tmp"
    stale.write_bytes(b"half")
    keep = [tmp_path / ".hidden", tmp_path / "notes.tmp", tmp_path / "train_state.pt"]
    for path in keep:
        path.write_bytes(b"x")
    assert remove_stale_temps(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in keep)
