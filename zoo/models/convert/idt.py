"""Official CoIC IDT keys (`models/IDT_CoIM.py`) -> our IDT keys (`zoo/backbones/idt.py`).

Official `encoderlayer_i`/`bottle`/`decoderlayer_i`/`dowsample_i.conv.0`/`upsample_i.deconv.0`/
`input_proj.proj.0`/`output_proj.proj.0` are our `encoders.i`/`bottleneck`/`decoders.i`/
`downsamples.i`/`upsamples.i`/`input_proj`/`output_proj`. Inside a block, the attention's
`qkv.{to_q,to_kv,proj}` are our `to_q`/`to_kv`/`to_local`, `Position_Extract` is `local`, the LeFF's
`linear1.0`/`dwconv.0`/`linear2.0` drop the Sequential index, and `context_emb.1` (the z embedding)
is `context.embed.1`.
"""

from __future__ import annotations

import re

from .tconv import strip_tconv

_TOP = (
    (re.compile(r"^encoderlayer_([0-3])\.blocks\.(\d+)\."), r"encoders.\1.blocks.\2."),
    (re.compile(r"^decoderlayer_([0-3])\.blocks\.(\d+)\."), r"decoders.\1.blocks.\2."),
    (re.compile(r"^bottle\.blocks\.(\d+)\."), r"bottleneck.blocks.\1."),
    (re.compile(r"^dowsample_([0-3])\.conv\.0\."), r"downsamples.\1."),
    (re.compile(r"^upsample_([0-3])\.deconv\.0\."), r"upsamples.\1."),
    (re.compile(r"^input_proj\.proj\.0\."), "input_proj."),
    (re.compile(r"^output_proj\.proj\.0\."), "output_proj."),
)
_INNER = {
    "attn.qkv.to_q.": "attn.to_q.",
    "attn.qkv.to_kv.": "attn.to_kv.",
    "attn.qkv.proj.": "attn.to_local.",
    "attn.Position_Extract.": "attn.local.",
    "mlp.linear1.0.": "mlp.linear1.",
    "mlp.dwconv.0.": "mlp.dwconv.",
    "mlp.linear2.0.": "mlp.linear2.",
    "context_emb.": "context.embed.",
}
_BLOCK_REST = re.compile(
    r"^(norm1|norm1_kv|norm2|attn\.(to_q|to_kv|to_local|proj|local\.[01])|mlp\.(linear1|linear2|dwconv)"
    r"|context\.embed\.1)\.(weight|bias)$|^attn\.relative_position_bias_table$|^mlp\.dwconv\.modulator\.[024]\.(weight|bias)$"
)


def rename_idt(key: str) -> str | None:
    """Official IDT key -> ours; None for a key IDT does not have."""
    key = strip_tconv(key)
    for pattern, replacement in _TOP:
        match = pattern.match(key)
        if match is None:
            continue
        head, rest = pattern.sub(replacement, key[: match.end()]), key[match.end() :]
        if ".blocks." not in head:  # a single convolution: weight, bias or its MLP
            ok = re.match(r"^(weight|bias|modulator\.[024]\.(weight|bias))$", rest)
            return head + rest if ok else None
        for old, new in _INNER.items():
            if rest.startswith(old):
                rest = new + rest[len(old) :]
                break
        return head + rest if _BLOCK_REST.match(rest) else None
    return None
