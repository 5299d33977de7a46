"""Multi-process training on one machine or many: `torchrun --nproc-per-node N -m zoo train ...`.

Gradients are averaged with an explicit all-reduce after each backward instead of wrapping the model
in DistributedDataParallel: CoIC's encoder runs outside the backbone's forward and stage 1 leaves the
modulation parameters without gradients, two things DDP's hooks handle badly. Buffers (the encoder's
batch-norm statistics) are broadcast from rank 0 after each step so every rank holds the same model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup() -> Dist:
    """Join the process group torchrun describes in the environment (gloo on CPU, NCCL on GPU)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size())


def teardown(info: Dist) -> None:
    if info.active and dist.is_initialized():
        dist.destroy_process_group()


def average_gradients(module: nn.Module, info: Dist) -> None:
    if not info.active:
        return
    for param in module.parameters():
        if param.grad is not None:
            dist.all_reduce(param.grad, op=dist.ReduceOp.SUM)
            param.grad.div_(info.world)


def broadcast_parameters(module: nn.Module, info: Dist) -> None:
    """Start every rank from rank 0's weights, as DDP does at construction."""
    if not info.active:
        return
    for tensor in [*module.parameters(), *module.buffers()]:
        dist.broadcast(tensor.data, src=0)


def sync_buffers(module: nn.Module, info: Dist) -> None:
    if not info.active:
        return
    for buffer in module.buffers():
        dist.broadcast(buffer, src=0)


def all_finite(value: torch.Tensor, info: Dist) -> bool:
    """True when the loss is finite on every rank (so all ranks stop together on a NaN)."""
    flag = torch.tensor([float(torch.isfinite(value).all())])
    if info.active:
        dist.all_reduce(flag, op=dist.ReduceOp.MIN)
    return bool(flag.item() > 0)


def barrier(info: Dist) -> None:
    if info.active:
        dist.barrier()
