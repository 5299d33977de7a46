"""The CLI's front door: listings work, bad input gives one clear line and a non-zero exit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_runner import run_cli


def test_models_lists_brn(monkeypatch, capsys) -> None:
    code, out, _ = run_cli(["models"], monkeypatch, capsys)
    assert code == 0 and "brn" in out and "0.376M" in out


def test_info_shows_configs(monkeypatch, capsys) -> None:
    code, out, _ = run_cli(["info", "brn"], monkeypatch, capsys)
    assert code == 0 and "tiny" in out and "paper" in out and "375,526" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["info", "brm"], "unknown backbone 'brm'; did you mean brn"),
        (["convert", "missing.pth", "--backbone", "brn", "--out", "x"], "missing.pth: no such file"),
        (["convert", "missing.pth", "--backbone", "nope", "--out", "x"], "unknown backbone 'nope'"),
        (["convert", "missing.pth", "--out", "x"], "missing.pth: no such file"),
        (["convert", "missing.pth", "--backbone", "nafnet", "--encoder", "e.pth"], "--encoder and --baseline are for official"),
    ],
)
def test_bad_input_is_one_line_without_traceback(args, expected, monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(args, monkeypatch, capsys)
    assert code != 0
    assert expected in err
    assert "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1


def test_corrupt_checkpoint_via_cli(monkeypatch, capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"PK\x03\x04 definitely not a checkpoint")
    code, _, err = run_cli(["convert", str(bad), "-b", "brn", "-o", str(tmp_path / "o")], monkeypatch, capsys)
    assert code != 0 and "not a readable PyTorch checkpoint" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("args", "literal"), [(["derain", "--help"], "coic-zoo[iqa]"), (["train", "--help"], "ddn[:weight]")])
def test_help_keeps_square_brackets(args: list[str], literal: str, monkeypatch, capsys) -> None:
    """Typer renders help as rich markup, which silently drops `[iqa]`-like text unless it is escaped."""
    code, out, _ = run_cli(args, monkeypatch, capsys)
    assert code == 0 and literal in out
