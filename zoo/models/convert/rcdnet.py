"""Official CoIC RCDNet keys (`models/RCDNet_CoIM.py`) -> our RCDNet keys.

The official class names its parts `c0`/`c`/`cz` and `proxNet_{M_S,B_S,B_0,B_L}` with residual blocks
under `.layer.`; each modulatable convolution is a `TConv` (`.base_conv.conv.weight`, `.g2pa_wgen.N`).
Ours: `kernel0`/`kernel`/`init_filter`, `m_nets`/`b_nets`/`b_init`/`b_last`, `.blocks.`, and the
convolution's own `weight` with the MLP as `.modulator.N`. A key without `base_conv.conv` (a plain
`nn.Conv2d` of the same name) maps the same way.
"""

from __future__ import annotations

import re

_TOP = {"c0": "kernel0", "c": "kernel", "cz": "init_filter", "tau": "tau", "m_step": "m_step", "b_step": "b_step"}
_NETS = (
    (re.compile(r"^proxNet_M_S\.(\d+)\."), r"m_nets.\1."),
    (re.compile(r"^proxNet_B_S\.(\d+)\."), r"b_nets.\1."),
    (re.compile(r"^proxNet_B_0\."), "b_init."),
    (re.compile(r"^proxNet_B_L\."), "b_last."),
)
_LEAF = re.compile(r"^(?P<net>(m_nets|b_nets)\.\d+\.|b_init\.|b_last\.)(?P<rest>.+)$")
_REST = re.compile(
    r"^(tau|layer\.\d+\.(bn[12]\.(weight|bias|running_mean|running_var|num_batches_tracked)"
    r"|conv[12]\.(base_conv\.conv\.)?(weight|bias)|conv[12]\.g2pa_wgen\.[024]\.(weight|bias)))$"
)


def rename_rcdnet(key: str) -> str | None:
    """Official RCDNet key -> ours; None for a key RCDNet does not have."""
    if key in _TOP:
        return _TOP[key]
    for pattern, replacement in _NETS:
        if pattern.match(key):
            key = pattern.sub(replacement, key)
            break
    else:
        return None
    match = _LEAF.match(key)
    if match is None or not _REST.match(match.group("rest")):
        return None
    rest = match.group("rest").replace("layer.", "blocks.", 1).replace("base_conv.conv.", "").replace("g2pa_wgen.", "modulator.")
    return match.group("net") + rest
