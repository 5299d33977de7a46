"""synthmix: the procedural mixed-rain benchmark (backgrounds, rain layers, domains, writer).

Deterministic by seed; `zoo data synth` writes it to disk in the Rain200 layout. The same rain over
the user's own photos (`zoo data synth --backgrounds`) lives in `over_photos` (with `cuts`, `folders`,
`manifest` and `draws`), imported from there: it reads photos with torch, which this package avoids.
"""

from .domains import DOMAINS, HELD_OUT_DOMAINS, TRAIN_DOMAINS, Domain, SynthDomain, domain, synth_pair
from .writer import write_synth

__all__ = [
    "DOMAINS",
    "HELD_OUT_DOMAINS",
    "TRAIN_DOMAINS",
    "Domain",
    "SynthDomain",
    "domain",
    "synth_pair",
    "write_synth",
]
