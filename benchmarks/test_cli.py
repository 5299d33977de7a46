"""How fast the command line answers: `zoo --help` and `zoo models`, beside `import torch` for scale.

Targets: `zoo --help` <= 1.0 s and `zoo models` <= 2 s on 2 cores (whole processes, as a user waits).
Run: `pytest benchmarks/test_cli.py --benchmark-group-by=group`.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

COMMANDS = {
    "zoo --help": [sys.executable, "-m", "zoo", "--help"],
    "zoo models": [sys.executable, "-m", "zoo", "models"],
    "python -c 'import torch'": [sys.executable, "-c", "import torch"],
}


@pytest.mark.parametrize("label", list(COMMANDS))
def test_process_time(benchmark, label: str) -> None:
    benchmark.group = "CLI start-up (whole process)"
    benchmark.pedantic(subprocess.run, args=(COMMANDS[label],), kwargs={"check": True, "capture_output": True}, rounds=5, warmup_rounds=1)
