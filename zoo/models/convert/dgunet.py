"""Official CoIC DGUNet keys (`models/DGUNet_CoIM.py`) -> our DGUNet keys (`zoo/backbones/dgunet.py`).

The official network names its stages by number (`phi_0`/`phit_0`/`r0`, `shallow_feat1`,
`stage1_encoder`, ..., the weight-shared middle stage `basic.*`, `phi_6`, `shallow_feat7`, `concat67`,
`tail`) and its parts by position (`body.0`, `CA.conv_du.2`, U-Net `body.i` holding the 4x4
`downsample`). Ours names them by role (`gdm_first`, `shallow_first`, `encoder_first`, `middle.*`,
`gdm_last`, `fuse_last`, ...). The PReLU the official first and last stages share is listed under
both of their channel-attention blocks; both keys map to our single `shared_act.weight`.
"""

from __future__ import annotations

import re

from .tconv import strip_tconv

_STAGES = {
    "phi_0": "gdm_first.phi",
    "phit_0": "gdm_first.phi_t",
    "r0": "gdm_first.step",
    "phi_6": "gdm_last.phi",
    "phit_6": "gdm_last.phi_t",
    "r6": "gdm_last.step",
    "shallow_feat1": "shallow_first",
    "shallow_feat7": "shallow_last",
    "stage1_encoder": "encoder_first",
    "stage1_decoder": "decoder_first",
    "sam12": "sam_first",
    "concat67": "fuse_last",
    "tail": "tail",
    "basic.phi_1": "middle.gdm.phi",
    "basic.phit_1": "middle.gdm.phi_t",
    "basic.r1": "middle.gdm.step",
    "basic.shallow_feat2": "middle.shallow",
    "basic.stage2_encoder": "middle.encoder",
    "basic.stage2_decoder": "middle.decoder",
    "basic.sam23": "middle.sam",
    "basic.merge12": "middle.merge",
}
_PART = re.compile(r"^(?P<stage>basic\.[a-z_0-9]+|[a-z_0-9]+)(?:\.(?P<rest>.+))?$")
_RESBLOCK = {"body.0": "conv1", "body.1": "act", "body.2": "conv2"}
_SHALLOW = {
    "0": "conv",
    "1.body.0": "cab.conv1",
    "1.body.1": "cab.act",
    "1.body.2": "cab.conv2",
    "1.CA.conv_du.0": "cab.attention.squeeze",
    "1.CA.conv_du.2": "cab.attention.excite",
}
_BLOCK = {
    "conv_1": "conv1",
    "conv_2": "conv2",
    "identity": "identity",
    "csff_enc": "csff_enc",
    "csff_dec": "csff_dec",
    "phi": "phi",
    "gamma": "gamma",
    "norm": "norm",
}
_LEVELS = 4  # the official Encoder/Decoder are built with depth=4 (UNET_LEVELS of ours)


def _split(rest: str, table: dict[str, str]) -> str | None:
    """Replace the longest dotted prefix of `rest` found in `table`; None if there is none."""
    parts = rest.split(".")
    for n in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:n])
        if head in table:
            return ".".join([table[head], *parts[n:]])
    return None


def _encoder(rest: str) -> str | None:
    match = re.match(r"^body\.(\d+)\.(.+)$", rest)
    if match is None:
        return None
    level, inner = int(match.group(1)), match.group(2)
    if inner.startswith("downsample.") and level < _LEVELS - 1:
        return f"downs.{level}.{inner.removeprefix('downsample.')}"
    block = _split(inner, _BLOCK)
    if block is None:
        return None
    return f"bottom.{block}" if level == _LEVELS - 1 else f"blocks.{level}.{block}"


def _decoder(rest: str) -> str | None:
    match = re.match(r"^(body|skip_conv)\.(\d+)\.(.+)$", rest)
    if match is None:
        return None
    kind, level, inner = match.groups()
    if kind == "skip_conv":
        return f"skips.{level}.{inner}"
    if inner.startswith("up."):
        return f"ups.{level}.{inner}"
    block = _split(inner.removeprefix("conv_block."), _BLOCK) if inner.startswith("conv_block.") else None
    return None if block is None else f"ups.{level}.block.{block}"


def rename_dgunet(key: str) -> str | None:
    """Official DGUNet key -> ours; None for a key DGUNet does not have."""
    key = strip_tconv(key)
    stage = next((s for s in sorted(_STAGES, key=len, reverse=True) if key == s or key.startswith(s + ".")), None)
    if stage is None:
        return None
    ours, rest = _STAGES[stage], key[len(stage) + 1 :]
    if not rest:
        return ours if ours.endswith(".step") else None
    if ours.endswith((".phi", ".phi_t")):
        inner = _split(rest, _RESBLOCK)
    elif ours.startswith(("shallow_", "middle.shallow")):
        inner = _split(rest, _SHALLOW)
        if inner is not None and inner.startswith("cab.act.") and ours != "middle.shallow":
            return "shared_act." + inner.removeprefix("cab.act.")
    elif ours.startswith(("encoder_", "middle.encoder")):
        inner = _encoder(rest)
    elif ours.startswith(("decoder_", "middle.decoder")):
        inner = _decoder(rest)
    elif ours.endswith("sam") or ours == "sam_first":
        inner = _split(rest, {"conv1": "conv_feat", "conv2": "conv_img"})
    elif ours == "middle.merge":
        inner = _split(rest, {"conv_block": "fuse", "subnet": "basis"})
    else:  # fuse_last, tail: a single convolution
        inner = rest
    return None if inner is None else f"{ours}.{inner}"
