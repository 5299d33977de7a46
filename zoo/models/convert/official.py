"""Convert official CoIC checkpoints (`.pth` state dicts) into coic-zoo model folders.

The part every backbone shares: read the file, rename each key with the backbone's own key map (the
converter its card names by dotted path, `BackboneSpec.converter`; one module per backbone beside
this one), drop the MLPs the official forward never calls, tell CoIC from baseline by the keys
(whether the file carries modulation MLPs), build the model and save the folder. Files are loaded
with `torch.load(weights_only=True)`: no code is ever unpickled.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ...catalog import Converter, list_models, model_info
from ...coic.model import CoICModel
from ...errors import CheckpointError, UnknownNameError, ZooError
from ..build import build_model
from ..checkpoint import load_module_state, save_model_dir
from ..torch_load import load_tensors_only, short_reason
from .encoder import encoder_shape, split_moco_state
from .tconv import unused_modulators

_MODULATION = (".modulator.", ".context.embed.")


def official_converter(backbone: str) -> tuple[Converter, Callable[[str], str | None]]:
    """The converter on `backbone`'s card and its rename function, imported now from the path the card names
    (the catalog sits below zoo.models, so a card can name its converter but not import it)."""
    converter = model_info(backbone).converter if backbone in list_models() else None
    if converter is None:
        available = [name for name in list_models() if model_info(name).converter is not None]
        raise UnknownNameError(f"no official-checkpoint converter for '{backbone}'; available: {', '.join(available)}")
    module, _, function = converter.rename.partition(":")
    try:
        rename = getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError) as err:
        raise ZooError(f"the {backbone} card names converter '{converter.rename}', which does not import ({err})") from None
    return converter, rename


def load_official_state(path: str | Path) -> dict[str, torch.Tensor]:
    """An official `.pth` state dict, read without unpickling code."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file; pass the official .pth checkpoint")
    try:
        state = load_tensors_only(path, "save the network's state_dict (torch.save(model.state_dict(), FILE)) and convert that")
    except CheckpointError:
        raise
    except Exception as err:  # torch raises several types for corrupt or foreign files
        reason = "unrecognised format" if "weights only load failed" in str(err).lower() else short_reason(err, 80)
        raise CheckpointError(f"{path}: not a readable PyTorch checkpoint ({reason}); download it again") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: not a state dict of tensors; pass the official model checkpoint")
    return state


def convert_official(
    src: str | Path,
    backbone: str,
    out: str | Path,
    encoder: str | Path | None = None,
    model_args: dict[str, Any] | None = None,
    baseline: bool = False,
) -> tuple[nn.Module, dict[str, Any]]:
    """Map the official checkpoint `src` of `backbone` (and its encoder `encoder`) into the model folder `out`.

    With the official encoder (`checkpoints/CoIC/<backbone>_enc.pth`, a MoCo state dict) the folder
    holds both encoders and runs the official test path: z from `encoder_k` on the input resized to
    the encoder size, once per image. `model_args` replace the converter's constructor arguments
    (e.g. the reduced widths of a parity fixture). Returns the loaded model and a summary (kind
    detected, tensors mapped). A checkpoint of another backbone fails with the number of keys that
    did not map.

    CoIC or baseline is read from the keys (modulation MLPs `g2pa_wgen`, z embeddings `context_emb`).
    DGUNet, IDT and DRSformer are built by one official class for both, so a baseline trained with it
    still carries (unused) modulation weights: `baseline=True` drops them and converts the plain
    network, as the official `test_model.py --load_mode normal` runs it. MLPs on kernel-1
    convolutions are always dropped (the official forward never calls them).
    """
    spec, rename = official_converter(backbone)
    state = load_official_state(src)
    unused = unused_modulators(state)
    renamed: dict[str, torch.Tensor] = {}
    unmapped: list[str] = []
    for key, tensor in state.items():
        if key in unused:
            continue
        new = rename(key)
        if new is None:
            unmapped.append(key)
        elif baseline and any(part in new for part in _MODULATION):
            continue
        elif new in renamed and not torch.equal(renamed[new], tensor):
            raise CheckpointError(f"{src}: two official tensors for {new} differ ({key}); the checkpoint is inconsistent")
        else:
            renamed[new] = tensor  # a parameter the official model lists twice (a shared PReLU) maps once
    if unmapped:
        raise CheckpointError(
            f"{src}: {len(unmapped)} of {len(state)} keys are not {backbone} keys (e.g. {unmapped[:2]}); "
            f"is this a checkpoint of another backbone?"
        )
    coic = any(part in k for k in renamed for part in _MODULATION)
    encoder_parts = split_moco_state(load_official_state(encoder), encoder) if encoder is not None else None
    if encoder_parts is not None and not coic:
        why = "--baseline drops its modulation weights" if baseline else "it has no g2pa_wgen keys"
        raise CheckpointError(f"{src}: a baseline model takes no --encoder ({why})")
    args = dict(spec.overrides if model_args is None else model_args)
    encoder_cfg: dict[str, Any] | None = None
    if encoder_parts is not None:
        encoder_cfg = {**encoder_shape(encoder_parts["key_encoder"], encoder), "size": 128}
        expected = _modulation_dim_z(renamed)
        if encoder_cfg["dim_z"] != expected:
            raise CheckpointError(
                f"{encoder}: its z has {encoder_cfg['dim_z']} values but {src} was built for z of {expected}; "
                "pass the encoder trained with this model"
            )
    elif coic:
        encoder_cfg = {"dim_z": _modulation_dim_z(renamed)}
    model = build_model(backbone, coic=coic, config=spec.config, encoder=encoder_cfg, **args)
    target = model.backbone if isinstance(model, CoICModel) else model
    load_module_state(target, renamed, Path(src))
    if encoder_parts is not None:
        load_module_state(model.encoder, encoder_parts["encoder"], Path(encoder))
        load_module_state(model.key_encoder.encoder, encoder_parts["key_encoder"], Path(encoder))
    kind = "coic" if coic else "baseline"
    extra = {
        "source": {
            "kind": f"official_{kind}",
            "file": Path(src).name,
            "repo": "Schizophreni/CoIC",
            "license": "MIT",
            "note": (
                "converted by `zoo convert`; the official encoder weights are not included"
                if coic and encoder is None
                else "converted by `zoo convert`"
            ),
        }
    }
    if encoder is not None:
        extra["source"]["encoder_file"] = Path(encoder).name
    # Without the official encoder file the model folder holds the backbone only.
    save_model_dir(model, out, extra, include_encoder=encoder_parts is not None)
    return model.eval(), {"kind": kind, "tensors": len(renamed), "params": sum(t.numel() for t in renamed.values())}


def _modulation_dim_z(renamed: dict[str, torch.Tensor]) -> int:
    """The z dimension the checkpoint's MLPs were built for: first MLP input minus the conv's input channels.

    A Transformer's z embedding (`context.embed.1.weight`, channels x dim_z) says it directly.
    Otherwise it is read over every modulated convolution and the most common value taken, so that
    the odd grouped or transposed convolution (whose weight's second axis is not its input width)
    cannot mislead it.
    """
    for key, tensor in renamed.items():
        if key.endswith(".context.embed.1.weight"):
            return int(tensor.shape[1])
    counts: dict[int, int] = {}
    for key, tensor in renamed.items():
        if key.endswith(".modulator.0.weight"):
            conv = renamed.get(key[: -len("modulator.0.weight")] + "weight")
            if conv is not None and conv.dim() == 4:
                value = int(tensor.shape[1] - conv.shape[1])
                counts[value] = counts.get(value, 0) + 1
    return max(counts, key=counts.__getitem__) if counts else 128
