"""Multi-process training on one machine or many: `torchrun --nproc-per-node N -m zoo train ...`.

One process per GPU (`cuda:LOCAL_RANK`, NCCL) or per CPU worker (gloo); many machines join through
torchrun's rendezvous (`--nnodes`, `--rdzv-endpoint`). Rank r of a world of W reads its own slice of
each global batch (see `zoo.data.mixing.StepSampler`), and the gradients are averaged over the
ranks, so W processes with batch B / W each compute the same step as one process with batch B.

Gradients are averaged with an explicit all-reduce after each backward instead of wrapping the model
in DistributedDataParallel: CoIC's encoder runs outside the backbone's forward and stage 1 leaves the
modulation parameters without gradients, two things DDP's hooks handle badly. Buffers (the encoder's
batch-norm statistics) are broadcast from rank 0 after each step so every rank holds the same model.
Every decision that changes a step (a non-finite loss stops the run, DGUNet's explode guard clips the
gradients) is all-reduced, so it is made once for all ranks; each rank's RNG state is gathered into the
checkpoint and restored by the same rank (`zoo.training.rng`).
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


def world_size() -> int:
    """The number of processes torchrun started (1 outside torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def local_world_size() -> int:
    """The number of processes on this machine (they share its CPUs)."""
    return int(os.environ.get("LOCAL_WORLD_SIZE", os.environ.get("WORLD_SIZE", "1")))


def setup(device: torch.device | None = None) -> Dist:
    """Join the process group torchrun describes in the environment: NCCL when this process trains
    on a GPU, gloo otherwise (a CPU run on a machine that has GPUs too)."""
    if world_size() <= 1:
        return Dist()
    device = device if device is not None else torch.device("cpu")
    if not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
            dist.init_process_group("nccl", device_id=device)
        else:
            dist.init_process_group("gloo")
    return Dist(dist.get_rank(), dist.get_world_size())


def teardown(info: Dist) -> None:
    if info.active and dist.is_initialized():
        dist.destroy_process_group()


BUCKET_BYTES = 32 * 2**20


def average_gradients(module: nn.Module, info: Dist) -> None:
    """Replace every gradient by its mean over the ranks.

    Gradients are packed into flat buckets of about `BUCKET_BYTES` per dtype, so a model with
    hundreds of parameter tensors costs a few collective calls per step, not hundreds.
    """
    if not info.active:
        return
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    for bucket in _buckets(grads):
        flat = torch.cat([g.reshape(-1) for g in bucket])
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        flat.div_(info.world)
        offset = 0
        for grad in bucket:
            grad.copy_(flat[offset : offset + grad.numel()].view_as(grad))
            offset += grad.numel()


def _buckets(grads: list[torch.Tensor]) -> list[list[torch.Tensor]]:
    """Consecutive gradients of one dtype and device, grouped up to `BUCKET_BYTES` each."""
    buckets: list[list[torch.Tensor]] = []
    size = 0
    for grad in grads:
        last = buckets[-1] if buckets else None
        fits = last is not None and last[0].dtype == grad.dtype and last[0].device == grad.device
        if fits and size + grad.numel() * grad.element_size() <= BUCKET_BYTES:
            last.append(grad)  # type: ignore[union-attr]
            size += grad.numel() * grad.element_size()
        else:
            buckets.append([grad])
            size = grad.numel() * grad.element_size()
    return buckets


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
    flag = torch.isfinite(value).all().float().reshape(1)  # on the loss's device, as NCCL needs
    if info.active:
        dist.all_reduce(flag, op=dist.ReduceOp.MIN)
    return bool(flag.item() > 0)


def any_rank(flag: bool, device: torch.device, info: Dist) -> bool:
    """True on every rank when `flag` is true on any rank: one decision that changes the step, made for all."""
    if not info.active:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=device)  # on the step's device, as NCCL needs
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)


def gather_objects(obj: object, info: Dist) -> list:
    """`obj` of every rank, in rank order (every rank must call it); `[obj]` in a single process."""
    if not info.active:
        return [obj]
    found: list = [None] * info.world
    dist.all_gather_object(found, obj)
    return found


def barrier(info: Dist) -> None:
    if info.active:
        dist.barrier()
