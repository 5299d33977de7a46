"""CoIC: the instance-level modulation (CoI-M), its encoder and its contrastive training signal."""

from ..layers import ContextPattern, ContextPoint, PlainConv2d
from .encoder import MomentumEncoder, RainDetailEncoder
from .model import CoICModel
from .modulation import (
    ModulatedContextPoint,
    ModulatedConv2d,
    ModulatedConvTranspose2d,
    ModulationContext,
    coicify,
    context_of,
    modulated_layers,
    modulation_parameters,
)

__all__ = [
    "CoICModel",
    "ContextPattern",
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
