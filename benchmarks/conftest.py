"""Benchmarks run with the machine's two threads, as a user's training run would."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _threads() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(2)


def pytest_terminal_summary(terminalreporter) -> None:
    """The paired ratios (benchmarks/paired.py) of this run, one line each."""
    from benchmarks.paired import RESULTS

    if RESULTS:
        terminalreporter.section("paired ratios: median of per-round ratios, steps alternated round by round")
        for result in RESULTS:
            terminalreporter.write_line(result.line())
