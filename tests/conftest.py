"""Shared fixtures: deterministic torch, and the `../shared` folder when it exists."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ZOO_SHARED", REPO.parent / "shared"))
OFFICIAL = SHARED / "checkpoints" / "coic-official"


@pytest.fixture(autouse=True)
def _deterministic() -> None:
    # One thread: test tensors are tiny, and two OpenMP threads on a busy 2-core machine (tests that
    # start subprocesses) wait on each other so long that a step slows down a hundredfold.
    torch.manual_seed(0)
    torch.set_num_threads(1)


@pytest.fixture
def official_dir() -> Path:
    """The official CoIC BRN checkpoints; tests that need them skip where ../shared is absent."""
    if not (OFFICIAL / "reference.safetensors").is_file():
        pytest.skip(f"official checkpoints not found under {OFFICIAL}")
    return OFFICIAL
