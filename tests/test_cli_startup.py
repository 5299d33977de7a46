"""The command line answers at once: `zoo --help` and `zoo models` never import torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
sys.argv = ["zoo", *{args!r}]
from zoo.cli.app import app
try:
    app()
except SystemExit:
    pass
heavy = sorted(m for m in ("torch", "pandas", "pyiqa", "timm", "matplotlib", "huggingface_hub") if m in sys.modules)
print("HEAVY:" + ",".join(heavy))
"""


@pytest.mark.parametrize("args", [["--help"], ["models"], ["info", "brn"], ["data", "--help"]])
def test_light_commands_import_no_heavy_package(args: list[str]) -> None:
    result = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    heavy = result.stdout.strip().splitlines()[-1]
    assert heavy == "HEAVY:", f"zoo {' '.join(args)} imported {heavy[6:]}"


def test_import_zoo_is_lazy_but_complete() -> None:
    code = "import sys, zoo; assert 'torch' not in sys.modules; zoo.create_model('brn'); assert 'torch' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
