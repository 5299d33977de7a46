"""Run the `zoo` CLI in-process, the way a user's shell would, and capture what it prints."""

from __future__ import annotations

import sys

import pytest

from zoo.cli import main


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `zoo ARGS`; a wide terminal so one-line errors stay one line."""
    monkeypatch.setattr(sys, "argv", ["zoo", *args])
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    code = exit_info.value.code
    return (0 if code is None else int(code)), captured.out, captured.err
