"""The global RNG state of each rank, saved with a checkpoint and put back by the same rank on resume.

Ranks draw from their own seeds (`cfg.seed * 1000 + rank`: dropout, DropPath), so rank 1 resuming
from rank 0's state would continue with another random stream than an uninterrupted run; the
checkpoint therefore holds every rank's state (`rng_ranks`, gathered by `Trainer.checkpoint`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

RngState = tuple[Tensor, "Tensor | None"]


def rng_state(device: torch.device) -> RngState:
    """This process's (CPU, CUDA or None) global RNG state."""
    return torch.get_rng_state(), torch.cuda.get_rng_state(device) if device.type == "cuda" else None


def rank_rng(state: dict[str, Any], rank: int) -> RngState:
    """The RNG state rank `rank` saved in `state`; rank 0's for checkpoints from before per-rank states
    (or from a run with fewer ranks, which cannot resume bit for bit anyway)."""
    ranks = state.get("rng_ranks")
    if ranks and rank < len(ranks):
        cuda = state.get("cuda_rng_ranks") or [None] * len(ranks)
        return ranks[rank].cpu(), cuda[rank]
    return state["rng"].cpu(), state.get("cuda_rng")


def restore_rng(saved: RngState, device: torch.device) -> None:
    """Put a state from `rank_rng` back as this process's global RNG."""
    cpu, cuda = saved
    torch.set_rng_state(cpu)
    if device.type == "cuda" and cuda is not None:
        torch.cuda.set_rng_state(cuda.cpu(), device)
