"""Optimisers and learning-rate schedules of a run, as the official training scripts set them up.

Two optimisers, as the official `train_<Backbone>.py` scripts have: the backbone's own parameters,
and (CoIC) the modulation MLPs plus the encoder. Both follow one schedule, a function of the step.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import torch
from torch import nn

from ..coic.model import CoICModel
from ..coic.modulation import modulation_parameters
from ..errors import ZooError
from .config import TrainConfig


def lr_factor(cfg: TrainConfig, step: int) -> float:
    """Multiplier of the base learning rate at `step` (multistep at fractions of the run, or cosine)."""
    iters = max(cfg.iters or 1, 1)
    if cfg.schedule == "cyclic_cosine":
        # BasicSR's CosineAnnealingRestartCyclicLR: period i decays from the base lr to floor i;
        # the last period continues past its end if the run is longer than the periods.
        periods = cfg.periods or (1.0,)
        floors = cfg.cycle_floors or (0.0,) * len(periods)
        start = 0.0
        for index, (period, floor_lr) in enumerate(zip(periods, floors)):
            length = period * iters
            if step < start + length or index == len(periods) - 1:
                floor = floor_lr / (cfg.lr or 1.0)
                position = min((step - start) / length, 1.0)
                return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * position))
            start += length
    if cfg.schedule == "cosine":
        floor = (cfg.eta_min or 0.0) / (cfg.lr or 1.0)
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(step / iters, 1.0)))
    passed = sum(step >= int(round(m * iters)) for m in (cfg.milestones or ()))
    return float((cfg.gamma or 1.0) ** passed)


def make_optimizer(cfg: TrainConfig, params: list[nn.Parameter]) -> torch.optim.Optimizer:
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay or 0.0)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay or 0.0)
    raise ZooError(f"unknown optimizer '{cfg.optimizer}'; use adam or adamw")


def build_optimizers(cfg: TrainConfig, model: nn.Module) -> dict[str, torch.optim.Optimizer]:
    """`base` over the backbone's own parameters; with CoIC also `coic` over modulators + encoder."""
    coic = isinstance(model, CoICModel)
    backbone = model.backbone if coic else model
    extra_ids = {id(p) for p in modulation_parameters(backbone)} if coic else set()
    base_params = [p for p in backbone.parameters() if id(p) not in extra_ids]
    optimizers = {"base": make_optimizer(cfg, base_params)}
    if coic:
        coic_params = [p for p in backbone.parameters() if id(p) in extra_ids] + list(model.encoder.parameters())
        coic_decay = cfg.coic_weight_decay if cfg.coic_weight_decay is not None else cfg.weight_decay
        optimizers["coic"] = make_optimizer(replace(cfg, weight_decay=coic_decay), coic_params)
    return optimizers


def build_schedulers(
    cfg: TrainConfig, optimizers: dict[str, torch.optim.Optimizer]
) -> dict[str, torch.optim.lr_scheduler.LambdaLR]:
    """One `LambdaLR` per optimiser, all following `lr_factor` of the run."""
    return {
        name: torch.optim.lr_scheduler.LambdaLR(opt, lambda step: lr_factor(cfg, step)) for name, opt in optimizers.items()
    }


def step_schedulers(schedulers: dict[str, torch.optim.lr_scheduler.LambdaLR]) -> None:
    """Advance every schedule one iteration.

    The schedule counts iterations, not optimiser steps: it advances when fp16's scaler skipped an
    overflowed step or left CoIC's optimiser out in stage 1. Torch warns once about that order; here
    it is intended, so the warning would only alarm the user."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)` before `optimizer\.step\(\)`")
        for scheduler in schedulers.values():
            scheduler.step()
