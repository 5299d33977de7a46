"""Checkpoints written by other code -> coic-zoo model folders and backbones.

Two kinds of foreign file are read, never unpickling code: the official CoIC checkpoints
(`official.py`, which renames keys with one key map per backbone: `brn.py`, `rcdnet.py`, `dgunet.py`,
`idt.py`, `drsformer.py`, with `tconv.py` for the wrapper every one of them shares and `encoder.py`
for the MoCo encoder file), and the published checkpoints of spandrel's architectures
(`external.py`, also the starting point of `zoo train --init`). Callers import from here; the
per-backbone maps are details of the official converter.
"""

from .external import convert_external, load_init
from .official import convert_official, load_official_state

__all__ = ["convert_external", "convert_official", "load_init", "load_official_state"]
