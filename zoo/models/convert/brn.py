"""Official CoIC BRN keys (`models/BRN_CoIM.py`, and the older baseline) -> our BRN keys (`zoo/backbones/brn.py`).

The official BRN files come in two key layouts: the CoIC model's (`conv0.conv.base_conv.conv.weight`,
`...g2pa_wgen.N...`) and the older plain-Sequential baseline's (`conv0.0.weight`,
`res_conv1.2.weight`). Both map here, so which one a file is never has to be declared. The official
network names its image and rain branches by suffix (`conv_i` / `conv_i_r`); ours nests them under
`image.` and `rain.`, its LSTM gates under `.lstm.` and its residual blocks under `.blocks.`.
"""

from __future__ import annotations

import re

_BRN_TOP = {
    "conv0": "image.conv0",
    "conv": "image.conv",
    "conv_i": "image.lstm.conv_i",
    "conv_f": "image.lstm.conv_f",
    "conv_g": "image.lstm.conv_g",
    "conv_o": "image.lstm.conv_o",
    "conv0_r": "rain.conv0",
    "conv_r": "rain.conv",
    "conv_i_r": "rain.lstm.conv_i",
    "conv_f_r": "rain.lstm.conv_f",
    "conv_g_r": "rain.lstm.conv_g",
    "conv_o_r": "rain.lstm.conv_o",
}
_BRN_BLOCK = re.compile(r"res_conv(\d+)(_r)?$")


def _brn_module(official: str) -> str | None:
    if official in _BRN_TOP:
        return _BRN_TOP[official]
    match = _BRN_BLOCK.match(official)
    if match:
        branch = "rain" if match.group(2) else "image"
        return f"{branch}.blocks.{int(match.group(1)) - 1}"
    return None


def rename_brn(key: str) -> str | None:
    """Official BRN key (either layout) -> our BRN key; None for a key BRN does not have."""
    parts = key.split(".")
    module = _brn_module(parts[0])
    if module is None:
        return None
    rest = parts[1:]
    is_block = ".blocks." in module
    if rest[:1] == ["conv"]:  # ConvUnit: conv0.conv.<TConv>
        rest = rest[1:]
    elif is_block and rest[:1] in (["conv1"], ["conv2"]):  # BaseBlock: res_conv1.conv1.<TConv>
        module, rest = f"{module}.{rest[0]}", rest[1:]
    elif len(rest) == 2 and rest[0] in ("0", "2"):  # baseline plain Sequential: conv0.0.weight
        if is_block:
            module = f"{module}.conv{1 if rest[0] == '0' else 2}"
        elif rest[0] != "0":
            return None
        return f"{module}.{rest[1]}"
    if rest[:2] == ["base_conv", "conv"] and len(rest) == 3:
        return f"{module}.{rest[2]}"
    if rest[:1] == ["g2pa_wgen"] and len(rest) == 3:
        return f"{module}.modulator.{rest[1]}.{rest[2]}"
    return None
