"""CoIC: the instance-level modulation (CoI-M), its encoder and its contrastive training signal."""

from .encoder import MomentumEncoder, RainDetailEncoder
from .model import CoICModel
from .modulation import (
    ContextPoint,
    ModulatedContextPoint,
    ModulatedConv2d,
    ModulatedConvTranspose2d,
    ModulationContext,
    PlainConv2d,
    coicify,
    context_of,
    modulated_layers,
    modulation_parameters,
)

__all__ = [
    "CoICModel",
    "ContextPoint",
    "ModulatedContextPoint",
    "ModulatedConv2d",
    "ModulatedConvTranspose2d",
    "ModulationContext",
    "MomentumEncoder",
    "PlainConv2d",
    "RainDetailEncoder",
    "coicify",
    "context_of",
    "modulated_layers",
    "modulation_parameters",
]
