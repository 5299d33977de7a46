"""Published checkpoints of spandrel's architectures: starting points for training and model folders.

spandrel recognises a checkpoint by its keys and reads the constructor arguments from its tensor
shapes. We use that, never its file loader: files are read here with safetensors or
`torch.load(weights_only=True)` (spandrel's own loader unpickles with a permissive allow-list and
runs TorchScript for `.pt` files), then handed to spandrel's detection as a state dict.

* `zoo train BACKBONE --init FILE` (`load_init`): the file must be a checkpoint of that backbone's
  architecture whose detected arguments agree with the chosen config; its weights are then loaded
  into the (plain or coicified) backbone.
* `zoo convert FILE` (`convert_external`): the model folder's config is `paper` plus every argument
  spandrel detected, as `overrides`, so `create_model("local-dir:...")` rebuilds the very model
  spandrel would run and reproduces its outputs.
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ...catalog import model_info
from ...catalog.external import EXTERNAL, EXTRA, EXTRA_HINT, ExternalArch, spandrel_class
from ...coic.model import CoICModel
from ...errors import CheckpointError, UnknownNameError
from ..build import build_model
from ..checkpoint import load_module_state, save_model_dir
from ..torch_load import load_tensors_only, short_reason

SUFFIXES = (".pth", ".pt", ".ckpt", ".safetensors")
_MODULATION_KEYS = (".modulator.", ".embed.")


@dataclass(frozen=True)
class Detected:
    """What spandrel read from a checkpoint."""

    backbone: str
    arch: ExternalArch
    hyperparameters: dict[str, Any]  # JSON-able constructor arguments, as spandrel built the model
    state_dict: dict[str, torch.Tensor]  # the built model's, after spandrel's own key fixes
    model: nn.Module  # spandrel's model, weights loaded

    @property
    def arguments(self) -> dict[str, Any]:
        """The detected arguments as builder `overrides` (our names)."""
        return self.arch.from_spandrel(self.hyperparameters)


def _jsonable(value: Any) -> Any:
    """`value` as JSON would give it back (tuples become lists), or raises TypeError."""
    return json.loads(json.dumps(value))


def detected_arguments(model: nn.Module) -> dict[str, Any]:
    """The constructor arguments a spandrel model was built with, leaving out classes and callables."""
    out = {}
    for key, value in getattr(model, "hyperparameters", {}).items():
        try:
            out[key] = _jsonable(value)
        except (TypeError, ValueError):
            continue
    return out


def read_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """The state dict in `path`, unwrapped as spandrel does (`params_ema`, `params`, `module.` ...)."""
    from spandrel import canonicalize_state_dict

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file; pass a checkpoint (.pth, .ckpt, .safetensors)")
    if path.suffix.lower() not in SUFFIXES:
        raise CheckpointError(f"{path}: unsupported file type '{path.suffix}'; pass a .pth, .pt, .ckpt or .safetensors file")
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            state: Any = load_file(str(path))
        else:
            state = load_tensors_only(path, "save the network's state_dict (torch.save(model.state_dict(), FILE)) or a .safetensors file")
    except CheckpointError:
        raise
    except Exception as err:  # torch and safetensors raise several types for foreign files
        raise CheckpointError(f"{path}: not a readable checkpoint ({short_reason(err)})") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: holds a {type(state).__name__}, not a state dict")
    state = canonicalize_state_dict(state)
    tensors = {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise CheckpointError(f"{path}: no tensors found; pass a model checkpoint")
    return tensors


def _registry() -> Any:
    """spandrel's registry, with the extra architectures when installed (a copy: the global one is left alone)."""
    from spandrel import MAIN_REGISTRY

    registry = MAIN_REGISTRY.copy()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*", category=FutureWarning)
            from spandrel_extra_arches import EXTRA_REGISTRY
    except ImportError:
        return registry
    registry.add(*EXTRA_REGISTRY, ignore_duplicates=True)
    return registry


def _backbone_of(arch_id: str, model: nn.Module) -> str | None:
    for name, arch in EXTERNAL.items():
        if arch.arch_id == arch_id and spandrel_class(arch) is type(model):
            return name
    return None


def detect(path: str | Path, backbone: str | None = None) -> Detected:
    """Which registered spandrel backbone the checkpoint `path` is, with spandrel's reading of it.

    With `backbone`, the file must be that backbone's architecture; without, spandrel's detection
    decides. Files of architectures coic-zoo does not register, or that no architecture claims,
    fail with one line naming the file.
    """
    path = Path(path)
    if backbone is not None and backbone not in EXTERNAL:
        model_info(backbone)  # an unknown name raises with the closest known ones
        raise UnknownNameError(
            f"'{backbone}' is coic-zoo's own backbone, not a spandrel one; official CoIC checkpoints convert "
            f"with `zoo convert FILE --backbone {backbone}`"
        )
    if backbone is not None:
        model_info(backbone)  # not registered: the extra package is missing (the message says so)
    state = read_checkpoint(path)
    registry = _registry()
    found = next((support for support in registry.architectures("detection") if support.detect(state)), None)
    if found is None:
        hint = "" if importlib.util.find_spec(EXTRA) else f" (Restormer, MPRNet and MIRNet-v2 files: {EXTRA_HINT})"
        raise CheckpointError(f"{path}: spandrel recognises no architecture in it; is it a model checkpoint?{hint}")
    arch_id = str(found.architecture.id)
    try:
        descriptor = found.architecture.load(dict(state))
    except Exception as err:  # an architecture's loader fails in many ways on an odd file
        raise CheckpointError(f"{path}: spandrel reads it as {arch_id} but cannot load it ({err})") from None
    model = descriptor.model
    name = _backbone_of(arch_id, model)
    if name is None:
        raise CheckpointError(
            f"{path}: a {arch_id} checkpoint ({type(model).__name__}); coic-zoo registers only RGB-to-RGB "
            f"restoration architectures of the same size: {', '.join(sorted(EXTERNAL))}"
        )
    if backbone is not None and name != backbone:
        raise CheckpointError(f"{path}: a {arch_id} checkpoint ({name}), not {backbone}; pass --backbone {name}")
    return Detected(name, EXTERNAL[name], detected_arguments(model), dict(model.state_dict()), model)


def _plain(model: nn.Module) -> nn.Module:
    return model.backbone if isinstance(model, CoICModel) else model


def load_init(model: nn.Module, backbone: str, config: str, path: str | Path) -> Detected:
    """Load the spandrel checkpoint `path` into `model` (a plain or CoIC `backbone` of config `config`).

    The arguments spandrel detects must equal the model's (those a checkpoint cannot tell, such as
    drop-path rates, are the config's); any difference is one error naming the file and the
    arguments. Only the weights CoIC adds (modulation MLPs, context embeddings) may be missing.
    """
    found = detect(path, backbone)
    target = _plain(model)
    mine = detected_arguments(target)
    differ = [
        f"{key}={value} (config: {mine.get(key)})"
        for key, value in found.hyperparameters.items()
        if key not in found.arch.undetectable and key in mine and mine[key] != value
    ]
    if differ:
        raise CheckpointError(
            f"{path}: a {backbone} checkpoint that does not fit config '{config}': it has {', '.join(differ)}; "
            f"pick the matching --config or --set model.KEY=VALUE"
        )
    try:
        result = target.load_state_dict(found.state_dict, strict=False)
    except RuntimeError as err:
        first = next((line.strip() for line in str(err).splitlines() if "size mismatch" in line), str(err)[:120])
        raise CheckpointError(f"{path}: does not fit {backbone} config '{config}' ({first})") from None
    missing = [k for k in result.missing_keys if not any(m in k for m in _MODULATION_KEYS)]
    if missing or result.unexpected_keys:
        raise CheckpointError(
            f"{path}: does not fit {backbone} config '{config}' ({len(missing)} missing keys, e.g. {missing[:2]}; "
            f"{len(result.unexpected_keys)} unexpected, e.g. {result.unexpected_keys[:2]})"
        )
    return found


def convert_external(src: str | Path, out: str | Path, backbone: str | None = None) -> tuple[nn.Module, dict[str, Any]]:
    """Turn the spandrel-readable checkpoint `src` into the model folder `out`; returns the model and a summary."""
    found = detect(src, backbone)
    model = build_model(found.backbone, config="paper", **found.arguments)
    load_module_state(model, found.state_dict, Path(src))
    arch = found.arch
    extra = {
        "source": {
            "kind": "spandrel",
            "file": Path(src).name,
            "repo": arch.code,
            "architecture": f"{arch.arch_id} ({arch.cls}, {arch.package})",
            "license": arch.license,
            "note": "converted by `zoo convert`; the weights keep the licence of their publisher",
        },
        "license": arch.license,
    }
    save_model_dir(model, out, extra)
    params = sum(p.numel() for p in model.parameters())
    return model.eval(), {"backbone": found.backbone, "tensors": len(found.state_dict), "params": params}
