"""Model folders: `config.json` + `model.safetensors` [+ `encoder.safetensors`], written atomically.

The folder layout is the one published on the Hub and used by run directories, so a training run,
a converted official checkpoint and a downloaded model all load the same way. Nothing here unpickles:
weights are safetensors and configuration is JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save
from torch import nn

from .._atomic import atomic_write, atomic_write_json
from ..coic.model import CoICModel
from ..errors import CheckpointError, ZooError
from .build import BUILD_ATTR, build_model
from .files import CONFIG_FILE, ENCODER_FILE, METRICS_FILE, MODEL_FILE

FORMAT = "coic-zoo"
FORMAT_VERSION = 1


def build_config(model: nn.Module) -> dict[str, Any]:
    """The arguments `zoo.models.build.build_model` needs to rebuild `model` (recorded when it was built)."""
    build = getattr(model, BUILD_ATTR, None)
    if build is None:
        raise ZooError("this model was not built by zoo.create_model, so its folder could not be rebuilt")
    return dict(build)


def _state(module: nn.Module) -> dict[str, torch.Tensor]:
    # A module registered under two names (MPRNet's shared PReLU) lists one tensor twice; safetensors
    # refuses shared memory, so the later names get copies (loading writes the same values back).
    state: dict[str, torch.Tensor] = {}
    seen: set[int] = set()
    for key, value in module.state_dict().items():
        tensor = value.detach().contiguous().cpu()
        storage = tensor.untyped_storage().data_ptr()
        state[key] = tensor.clone() if storage in seen else tensor
        seen.add(storage)
    return state


def _save_tensors(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    # Serialised in memory, written by Python: a full disk is then an OSError(ENOSPC) the atomic
    # writer reports (safetensors' own file writer hides it in a SafetensorError), and the bytes
    # are the same as `save_file` writes.
    data = save(tensors, metadata=metadata)
    atomic_write(path, lambda tmp: tmp.write_bytes(data), size=len(data))


def save_model_dir(
    model: nn.Module, directory: str | Path, extra: dict[str, Any] | None = None, include_encoder: bool = True
) -> Path:
    """Write `model` to `directory`: weights first, then `config.json`, each replaced atomically.

    `extra` entries (training settings, provenance) are stored beside the build arguments.
    `include_encoder=False` leaves out `encoder.safetensors` (a converted checkpoint without one).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = {"format": FORMAT, "format_version": FORMAT_VERSION, **build_config(model), **(extra or {})}
    # One metadata key only: safetensors writes metadata in hash-map order, so two keys would make
    # byte-identical conversions impossible (and pretrained sha256 values unstable).
    meta = {"format": FORMAT}
    if isinstance(model, CoICModel):
        _save_tensors(_state(model.backbone), directory / MODEL_FILE, meta)
        if not include_encoder:
            atomic_write_json(directory / CONFIG_FILE, config)
            return directory
        encoders = {f"encoder.{k}": v for k, v in _state(model.encoder).items()}
        encoders.update({f"key_encoder.{k}": v for k, v in _state(model.key_encoder.encoder).items()})
        _save_tensors(encoders, directory / ENCODER_FILE, meta)
    else:
        _save_tensors(_state(model), directory / MODEL_FILE, meta)
    atomic_write_json(directory / CONFIG_FILE, config)
    return directory


def read_config(directory: str | Path) -> dict[str, Any]:
    """The parsed `config.json` of a model folder, with a clear error when it is absent or broken."""
    path = Path(directory) / CONFIG_FILE
    if not Path(directory).is_dir():
        raise CheckpointError(f"{directory}: no such model folder; expected a folder with {CONFIG_FILE} and {MODEL_FILE}")
    if not path.is_file():
        raise CheckpointError(f"{path}: missing; a model folder needs {CONFIG_FILE} (write one with `zoo convert` or `zoo train`)")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: not valid JSON ({err}); restore it from the run or re-convert") from None
    if config.get("format") != FORMAT or "backbone" not in config:
        raise CheckpointError(f"{path}: not a coic-zoo model config (no format/backbone keys)")
    return config


def read_metrics(directory: str | Path, name: str = METRICS_FILE) -> dict[str, Any] | None:
    """The parsed `metrics.json` (or the side file `name`) of an evaluated folder (`{"rows": [...], ...}`); None when absent."""
    path = Path(directory) / name
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: not valid JSON ({err}); re-run `zoo evaluate` on the folder") from None
    rows = data.get("rows") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise CheckpointError(f'{path}: expected {{"rows": [{{...}}, ...]}}; re-run `zoo evaluate` on the folder')
    return data


def load_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a safetensors file, turning a corrupt or missing file into one clear line."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: missing; the model folder is incomplete")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{path}: corrupt safetensors file ({err}); download or convert it again") from None


def load_module_state(module: nn.Module, state: dict[str, torch.Tensor], source: Path) -> None:
    """`load_state_dict(strict=True)`, reporting missing or unexpected keys in one line."""
    try:
        result = module.load_state_dict(state, strict=False)
    except RuntimeError as err:
        first = next((line.strip() for line in str(err).splitlines() if "size mismatch" in line), str(err)[:120])
        raise CheckpointError(
            f"{source}: does not fit this model ({first}); is it a checkpoint of another backbone or config?"
        ) from None
    if result.missing_keys or result.unexpected_keys:
        raise CheckpointError(
            f"{source}: does not fit this model ({len(result.missing_keys)} missing keys, e.g. "
            f"{result.missing_keys[:2]}; {len(result.unexpected_keys)} unexpected, e.g. {result.unexpected_keys[:2]}); "
            "is it a checkpoint of another backbone or config?"
        )


RANDOM_ENCODER = "random encoder"
"""What the rows and metrics of a model loaded with `allow_random_encoder=True` say about it."""


def load_model_dir(directory: str | Path, allow_random_encoder: bool = False) -> nn.Module:
    """Rebuild the model saved in `directory` (eval mode), weights included.

    A CoIC folder without `encoder.safetensors` is refused: its z would come from a randomly
    initialised encoder, so the same command would give other outputs each time. `allow_random_encoder=True`
    loads it anyway (for callers that pass z themselves, or that want that control knowingly); the model
    then carries `random_encoder = True` (`has_random_encoder`), which evaluations record on their rows.
    """
    directory = Path(directory)
    config = read_config(directory)
    try:
        model = build_model(
            config["backbone"],
            coic=bool(config.get("coic", False)),
            config=config.get("config", "tiny"),
            layout=config.get("layout", "official"),
            encoder=config.get("encoder"),
            **config.get("overrides", {}),
        )
    except TypeError as err:
        raise CheckpointError(f"{directory / CONFIG_FILE}: overrides do not fit backbone '{config['backbone']}' ({err})") from None
    if isinstance(model, CoICModel):
        load_module_state(model.backbone, load_tensors(directory / MODEL_FILE), directory / MODEL_FILE)
        encoder_path = directory / ENCODER_FILE
        if encoder_path.is_file():
            tensors = load_tensors(encoder_path)
            load_module_state(model.encoder, _strip(tensors, "encoder."), encoder_path)
            load_module_state(model.key_encoder.encoder, _strip(tensors, "key_encoder."), encoder_path)
        elif allow_random_encoder:
            model.random_encoder = True
        else:
            raise CheckpointError(
                f"{encoder_path}: missing; without it this CoIC model's z would come from a randomly initialised "
                f"encoder and its outputs would change from run to run. Restore the file (`zoo convert ... --encoder`), "
                "or pass --allow-random-encoder (allow_random_encoder=True) to use an untrained encoder knowingly"
            )
    else:
        load_module_state(model, load_tensors(directory / MODEL_FILE), directory / MODEL_FILE)
    return model.eval()


def has_random_encoder(model: nn.Module) -> bool:
    """Whether `model` was loaded without its trained encoder (`load_model_dir(..., allow_random_encoder=True)`)."""
    return bool(getattr(model, "random_encoder", False))


def _strip(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
