"""Official CoIC DRSformer keys (`models/DRSformer_CoIM.py`) -> our DRSformer keys (`zoo/backbones/drsformer.py`).

Most names are shared (`encoder_levelN.i.attn.*`, `ffn.*`, `reduce_chan_level*`, ...). What differs:
the `LayerNorm` wrapper's `.body.` is gone, `context_emb.1` (the z embedding) is `context.embed.1`,
`patch_embed.proj`/`down*.body.0`/`up*.body.0` are `patch_embed`/`down*.0`/`up*.0`, and the MEFC
`subnet` (`layers.0.ca_fc`, `layers.1.preprocess.op.0`, `layers.1._ops.i._ops.j.op.k`,
`layers.1._ops.i._out.0`) is our `FeatureCompensator` (`router`, `preprocess`, `steps.i.experts.j.*`,
`steps.i.fuse`). Experts 0-3 are `SepConv` (`op.0`/`op.1`/`op.3`/`op.4` -> `dw1`/`pw1`/`dw2`/`pw2`),
4-6 `DilConv` (`op.0`/`op.1` -> `dw`/`pw`); the average-pool expert has no weights.
"""

from __future__ import annotations

import re

from .tconv import strip_tconv

_LEVELS = r"(encoder_level[123]|latent|decoder_level[123])"
_BLOCK = re.compile(rf"^{_LEVELS}\.(\d+)\.(?P<rest>.+)$")
_BLOCK_REST = re.compile(
    r"^(context\.embed\.1\.(weight|bias)|norm(1_q|1_kv|2)\.(weight|bias)"
    r"|attn\.(temperature|attn[1-4]|(to_q|to_kv|qkv_dwconv|project_out)\.(weight|bias))"
    r"|ffn\.(project_in|project_out|dwconv3x3|dwconv5x5|dwconv3x3_1|dwconv5x5_1)\.(weight|bias)"
    r"|ffn\.(dwconv3x3|dwconv5x5|dwconv3x3_1|dwconv5x5_1)\.modulator\.[024]\.(weight|bias))$"
)
_MEFC = re.compile(r"^(?P<net>encoder_level0|refinement)\.layers\.(?P<rest>.+)$")
_SEP = {"0": "dw1", "1": "pw1", "3": "dw2", "4": "pw2"}
_DIL = {"0": "dw", "1": "pw"}
_SINGLE = re.compile(
    r"^(patch_embed\.proj|output|(down1_2|down2_3|down3_4|up4_3|up3_2|up2_1)\.body\.0|reduce_chan_level[23])\."
    r"(?P<rest>weight|bias|modulator\.[024]\.(weight|bias))$"
)


def _mefc(net: str, rest: str) -> str | None:
    if match := re.match(r"^0\.ca_fc\.([02])\.(weight|bias)$", rest):
        return f"{net}.router.{match.group(1)}.{match.group(2)}"
    if rest == "1.preprocess.op.0.weight":
        return f"{net}.preprocess.weight"
    if match := re.match(r"^1\._ops\.(\d+)\._out\.0\.weight$", rest):
        return f"{net}.steps.{match.group(1)}.fuse.weight"
    match = re.match(
        r"^1\._ops\.(\d+)\._ops\.([0-6])\.op\.(\d)\.(?P<tail>weight|modulator\.[024]\.(weight|bias))$", rest
    )
    if match is None:
        return None
    step, expert, index = match.group(1), int(match.group(2)), match.group(3)
    part = (_SEP if expert < 4 else _DIL).get(index)
    return None if part is None else f"{net}.steps.{step}.experts.{expert}.{part}.{match.group('tail')}"


def rename_drsformer(key: str) -> str | None:
    """Official DRSformer key -> ours; None for a key DRSformer does not have."""
    key = strip_tconv(key)
    if match := _BLOCK.match(key):
        rest = match.group("rest").replace("context_emb.", "context.embed.", 1)
        rest = re.sub(r"^(norm1_q|norm1_kv|norm2)\.body\.", r"\1.", rest)
        return key[: match.start("rest")] + rest if _BLOCK_REST.match(rest) else None
    if match := _MEFC.match(key):
        return _mefc(match.group("net"), match.group("rest"))
    if match := _SINGLE.match(key):
        head = key[: match.start("rest")].replace("patch_embed.proj.", "patch_embed.").replace(".body.0.", ".0.")
        return head + match.group("rest")
    return None
