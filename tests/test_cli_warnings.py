"""Library warnings never reach the terminal ahead of a one-line error; `zoo --debug` still shows them (issue 25).

Each case runs the CLI in a fresh interpreter (its real stderr, Python's default warning filters) with
`zoo info`'s catalog lookup replaced by one that first calls `torch.meshgrid` without `indexing`
(torch's UserWarning, as spandrel's architectures trigger it) and then fails with a ZooError.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

from zoo.cli.quiet import quiet_library_warnings

PROBE = """
import sys, warnings
import torch
import zoo.catalog
from zoo.errors import UnknownNameError

def lookup(name):
    torch.meshgrid(torch.arange(2), torch.arange(2))
    warnings.warn("a warning of coic-zoo's own", UserWarning)
    raise UnknownNameError("unknown backbone 'brm'")

zoo.catalog.model_info = lookup
sys.argv = ["zoo", *{args!r}]
from zoo.cli.app import main
main()
"""


def _stderr(args: list[str]) -> str:
    result = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    return result.stderr


def test_library_warning_is_hidden_before_the_one_line_error() -> None:
    err = _stderr(["info", "brm"])
    assert "meshgrid" not in err and "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1] == "error: unknown backbone 'brm'"
    assert any("a warning of coic-zoo's own" in line for line in lines)  # ours still show


def test_debug_shows_every_warning() -> None:
    err = _stderr(["--debug", "info", "brm"])
    assert "torch.meshgrid: in an upcoming release" in err and "Traceback" in err


@pytest.mark.parametrize(("module", "hidden"), [("torch.functional", True), ("spandrel.architectures.x", True),
                                                ("torchlike", False), ("zoo.data.mixing", False)])
def test_filter_matches_library_modules_only(module: str, hidden: bool) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet_library_warnings()
        warnings.warn_explicit("something", UserWarning, "file.py", 1, module=module)
    assert (not caught) == hidden
