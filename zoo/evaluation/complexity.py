"""What a model costs: multiply-accumulates (torch's own FLOP counter, not thop, which misses ops),
parameters (deployed: backbone, modulation MLPs, encoder), time on the model's device (the CPU for the
leaderboard's cost columns) and peak allocated CPU memory of one forward pass.

MACs are reported, labelled as MACs, for one 3 x S x S input; GFLOPs would be twice that. The
literature's convention, used by the leaderboard's cost columns, is S = 256 (`MACS_SIZE`); the
`macs` column of result rows is counted at 128 x 128 (`ROW_MACS_SIZE`), as it always was.
"""

from __future__ import annotations

import time

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..coic.model import CoICModel
from ..coic.modulation import modulation_parameters
from .devices import synchronize

MACS_SIZE = 256
ROW_MACS_SIZE = 128


@torch.no_grad()
def count_macs(model: nn.Module, size: int = ROW_MACS_SIZE) -> int | None:
    """MACs of one forward pass on a 1 x 3 x size x size input; None when the counter cannot trace it."""
    was_training = model.training
    model.eval()
    try:
        counter = FlopCounterMode(display=False)
        with counter:
            model(torch.rand(1, 3, size, size, device=_device_of(model)))
        return int(counter.get_total_flops() // 2)
    except Exception:  # a backbone whose ops the counter does not support: report "unknown"
        return None
    finally:
        model.train(was_training)


def _device_of(model: nn.Module) -> torch.device:
    """Where the model's weights are: its inputs are made there (a model without weights runs on the CPU)."""
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _count(parameters) -> int:
    return sum(p.numel() for p in parameters)


def parameter_counts(model: nn.Module) -> dict[str, int]:
    """Total (deployed) parameters and their parts: backbone, modulation MLPs, encoder.

    A CoIC model's momentum key encoder is a training-time copy and is not counted."""
    if not isinstance(model, CoICModel):
        n = _count(model.parameters())
        return {"params": n, "backbone_params": n, "modulation_params": 0, "encoder_params": 0}
    modulation = _count(modulation_parameters(model.backbone))
    backbone = _count(model.backbone.parameters()) - modulation
    encoder = _count(model.encoder.parameters())
    return {"params": backbone + modulation + encoder, "backbone_params": backbone, "modulation_params": modulation, "encoder_params": encoder}


@torch.inference_mode()
def time_per_image(model: nn.Module, size: int, repeats: int = 5, warmup: int = 2, seed: int = 0) -> list[float]:
    """Seconds of each of `repeats` forward passes on one 3 x size x size image, after `warmup` passes,
    on the model's device; a GPU's queued kernels are waited for, so each time is work done, not launched."""
    device = _device_of(model)
    image = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(seed)).to(device)
    for _ in range(warmup):
        model(image)
    times = []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        model(image)
        synchronize(device)
        times.append(time.perf_counter() - start)
    return times


@torch.inference_mode()
def peak_forward_bytes(model: nn.Module, size: int = MACS_SIZE, seed: int = 0) -> int:
    """Peak bytes the CPU allocator holds during one forward pass on a 3 x size x size image, above
    what was allocated before it (the weights): the input, activations and output.

    Read from torch's profiler with memory profiling: each op's own allocations and each free, in
    time order; the running sum's maximum is the peak.
    """
    from torch.profiler import ProfilerActivity, profile

    image = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(seed))
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        model(image)
    events = sorted(prof.events(), key=lambda e: e.time_range.start)
    held = peak = image.numel() * image.element_size()
    for event in events:
        held += int(event.self_cpu_memory_usage)
        peak = max(peak, held)
    return peak
