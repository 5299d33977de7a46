"""Benchmarks run with the machine's two threads, as a user's training run would."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _threads() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(2)
