"""`create_model`: one entry point for plain backbones, CoIC models and saved or published model folders.

Names follow timm: `brn` builds from the catalog, `local-dir:PATH` rebuilds a saved folder
(`config.json` + `model.safetensors` [+ `encoder.safetensors`]), `hf-hub:ORG/REPO` and
`backbone.tag` fetch published weights. Path-like names without a prefix are refused, so a typo is
never silently read as a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from .. import defaults
from ..coic.model import CoICModel
from ..errors import CheckpointError, ZooError
from .build import build_model
from .checkpoint import load_model_dir, read_config
from .files import CONFIG_FILE
from .hub import pull
from .official import fetch_official
from .packaged import packaged_folder
from .pretrained import HF_HUB_PREFIX, PretrainedCfg, resolve

LOCAL_DIR_PREFIX = "local-dir:"


def create_model(
    name: str,
    coic: bool = False,
    config: str = defaults.CONFIG,
    pretrained: str | bool | None = None,
    *,
    allow_random_encoder: bool = False,
    **overrides: Any,
) -> nn.Module:
    """Create a backbone by name, optionally with CoIC and pretrained weights.

    `config` is `"tiny"` (fast on CPU) or `"paper"` (the published model); keyword `overrides`
    change single constructor arguments. `pretrained` names a tag of the pretrained table
    (e.g. `"coic_synthmix"`); `"brn.tag"` names it inline. A saved CoIC folder without
    `encoder.safetensors` is refused unless `allow_random_encoder=True` (see `load_model_dir`).
    """
    if name.startswith(LOCAL_DIR_PREFIX):
        return load_model_dir(name[len(LOCAL_DIR_PREFIX) :], allow_random_encoder=allow_random_encoder)
    if name.startswith(HF_HUB_PREFIX) or pretrained or "." in name:
        return load_pretrained(name, coic=coic, pretrained=pretrained, allow_random_encoder=allow_random_encoder)
    if "/" in name or "\\" in name:
        raise ZooError(
            f"'{name}' looks like a path; use '{LOCAL_DIR_PREFIX}{name}' for a saved model folder "
            f"or '{HF_HUB_PREFIX}ORG/REPO' for a Hub repository"
        )
    return build_model(name, coic=coic, config=config, **overrides)


def load_pretrained(
    name: str, coic: bool = False, pretrained: str | bool | None = None, *, allow_random_encoder: bool = False
) -> nn.Module:
    """A model with published weights, in eval mode.

    `name` is `hf-hub:ORG/REPO[@REVISION]`, `<backbone>.<tag>`, or a backbone name with `pretrained`
    naming a tag (`True`: the backbone's default tag for `coic`). `coic=True` asks for a CoIC model and
    refuses baseline weights; `coic=False` (the default) takes the tag's method. `pretrained=False` with
    `<backbone>.<tag>` builds the tag's architecture without weights. Weights come through
    `zoo.models.hub.pull`, i.e. the Hugging Face cache, with every file's sha256 checked; official-checkpoint
    tags (`brn.official_coic`, `rcdnet.official_baseline`, ...) through `zoo.models.official.fetch_official`,
    which converts the official file on first use; packaged tags (`brn.coic_synthmix`) from the installed
    package itself (`zoo.models.packaged`), checked against the same table, with no network at all.
    """
    if name.startswith(HF_HUB_PREFIX):
        if isinstance(pretrained, str):
            raise ZooError(f"'{name}' names a Hub repository; pretrained='{pretrained}' cannot be combined with it")
        repo, _, revision = name[len(HF_HUB_PREFIX) :].partition("@")
        folder = pull(repo, revision=revision or None)
        model = load_model_dir(folder, allow_random_encoder=allow_random_encoder)
        if coic and not isinstance(model, CoICModel):
            raise ZooError(f"'{name}' holds a baseline model (no CoIC), but coic=True was asked for")
        return model

    cfg = resolve(name, coic, pretrained)
    if pretrained is False:
        return build_model(cfg.backbone, coic=cfg.coic, config=cfg.config, **cfg.model_args)
    folder = _tag_folder(cfg)
    config = read_config(folder)
    found = f"backbone '{config.get('backbone')}', {'coic' if config.get('coic') else 'baseline'}"
    if config.get("backbone") != cfg.backbone or bool(config.get("coic", False)) != cfg.coic:
        raise CheckpointError(
            f"{folder / CONFIG_FILE}: holds {found}, but the table entry {cfg.name} expects backbone "
            f"'{cfg.backbone}', {cfg.method}; the {cfg.where} copy or the table is wrong"
        )
    model = load_model_dir(folder)
    model.pretrained_cfg = cfg  # type: ignore[assignment]  (timm keeps it on the model too)
    return model


def _tag_folder(cfg: PretrainedCfg) -> Path:
    """The verified model folder of a table entry, from wherever the entry says its files are."""
    if cfg.where == "packaged":
        return packaged_folder(cfg)
    if cfg.where == "official":
        return fetch_official(cfg)
    return pull(cfg.name)
