"""synthmix: the procedural mixed-rain benchmark (backgrounds, rain layers, domains, writer).

Deterministic by seed; `zoo data synth` writes it to disk in the Rain200 layout.
"""

from .domains import DOMAINS, HELD_OUT_DOMAINS, TRAIN_DOMAINS, Domain, SynthDomain, domain, psnr_uint8, synth_pair
from .writer import write_synth

__all__ = [
    "DOMAINS",
    "HELD_OUT_DOMAINS",
    "TRAIN_DOMAINS",
    "Domain",
    "SynthDomain",
    "domain",
    "psnr_uint8",
    "synth_pair",
    "write_synth",
]
