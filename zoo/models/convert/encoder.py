"""The official CoIC encoder checkpoint (`checkpoints/CoIC/*_enc.pth`, a `MoCo` state dict) -> our encoders.

`MoCo` holds the query encoder as `encoder_q.*` and the momentum (key) encoder as `encoder_k.*`, each a
`FeatureExtract` whose parameter names ours keep (`conv1`, `resblock.N.block.M`, `resblock.N.short_cut.M`,
`mlp.N`). The official `test_model.py` takes z from `encoder_k`, so the key encoder is the one that
matters at test time; both are loaded.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ...errors import CheckpointError

PREFIXES = {"encoder_q.": "encoder", "encoder_k.": "key_encoder"}


def split_moco_state(state: dict[str, torch.Tensor], src: str | Path) -> dict[str, dict[str, torch.Tensor]]:
    """{"encoder": query state, "key_encoder": key state} from a MoCo state dict; refuses anything else."""
    parts: dict[str, dict[str, torch.Tensor]] = {"encoder": {}, "key_encoder": {}}
    unknown = []
    for key, tensor in state.items():
        prefix = next((p for p in PREFIXES if key.startswith(p)), None)
        if prefix is None:
            unknown.append(key)
            continue
        parts[PREFIXES[prefix]][key[len(prefix) :]] = tensor
    if unknown or not parts["key_encoder"]:
        example = unknown[:2] if unknown else "no encoder_k.* keys"
        raise CheckpointError(
            f"{src}: not an official CoIC encoder (MoCo state dict with encoder_q.* and encoder_k.*): {example}"
        )
    if not parts["encoder"]:
        parts["encoder"] = dict(parts["key_encoder"])
    return parts


def encoder_shape(part: dict[str, torch.Tensor], src: str | Path) -> dict[str, int]:
    """Width and z dimension of a FeatureExtract state dict."""
    try:
        return {"width": int(part["conv1.weight"].shape[0]), "dim_z": int(part["mlp.2.weight"].shape[0])}
    except KeyError as err:
        raise CheckpointError(f"{src}: the encoder has no {err.args[0]}; not a CoIC FeatureExtract") from None
