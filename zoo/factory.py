"""`create_model`: one entry point for plain backbones, CoIC models and saved model folders.

Names follow timm: `brn` builds from the registry, `local-dir:PATH` rebuilds a saved folder
(`config.json` + `model.safetensors` [+ `encoder.safetensors`]), `hf-hub:ORG/REPO` and
`backbone.tag` fetch published weights. Path-like names without a prefix are refused, so a typo is
never silently read as a file.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from .coic.encoder import RainDetailEncoder
from .coic.model import ENCODER_RESIZES, CoICModel
from .coic.modulation import LAYOUTS, Layout
from .errors import UnknownNameError, ZooError
from .registry import model_info

BUILD_ATTR = "zoo_build"

ENCODER_CONFIGS: dict[str, dict[str, int]] = {
    # Paper: the official FeatureExtract(3, 32, 128) fed 128x128 images.
    "paper": {"width": 32, "dim_z": 128, "size": 128},
    # Tiny: a quarter of the encoder's work per image so a CoIC train step stays CPU-friendly.
    "tiny": {"width": 16, "dim_z": 64, "size": 64},
}


def build_encoder(config: str = "tiny", **overrides: int | None) -> tuple[RainDetailEncoder, int]:
    """The encoder of encoder-config `config` and its input size."""
    if config not in ENCODER_CONFIGS:
        raise UnknownNameError(f"unknown encoder config '{config}'; choose one of: {', '.join(ENCODER_CONFIGS)}")
    settings = dict(ENCODER_CONFIGS[config])
    settings.update({k: v for k, v in overrides.items() if v is not None})
    encoder = RainDetailEncoder(width=settings["width"], dim_z=settings["dim_z"])
    return encoder, settings["size"]


def build_model(
    backbone: str,
    *,
    coic: bool = False,
    config: str = "tiny",
    layout: Layout = "official",
    encoder: dict[str, Any] | None = None,
    **overrides: Any,
) -> nn.Module:
    """A freshly initialised plain backbone, or a CoICModel around it."""
    spec = model_info(backbone)
    net = spec.build(config, **overrides)
    build: dict[str, Any] = {
        "backbone": backbone,
        "config": config,
        "overrides": {k: v for k, v in overrides.items() if v is not None},
        "coic": coic,
    }
    if coic:
        if layout not in LAYOUTS:
            raise UnknownNameError(f"unknown modulation layout '{layout}'; choose one of: {', '.join(LAYOUTS)}")
        settings = dict(encoder or {})
        resize = str(settings.pop("resize", None) or "antialias")  # type: ignore[arg-type]
        if resize not in ENCODER_RESIZES:
            raise UnknownNameError(f"unknown encoder resize '{resize}'; choose one of: {', '.join(ENCODER_RESIZES)}")
        enc, size = build_encoder(config, **settings)
        net = CoICModel(net, enc, encoder_size=size, layout=layout, encoder_resize=resize)
        encoder_build: dict[str, Any] = {"width": enc.conv1.out_channels, "dim_z": enc.dim_z, "size": size}
        if resize != "antialias":  # recorded only when not the default, so published config.json files stay byte-identical
            encoder_build["resize"] = resize
        build.update(layout=layout, encoder=encoder_build)
    setattr(net, BUILD_ATTR, build)
    return net


def create_model(
    name: str,
    coic: bool = False,
    config: str = "tiny",
    pretrained: str | bool | None = None,
    **overrides: Any,
) -> nn.Module:
    """Create a backbone by name, optionally with CoIC and pretrained weights.

    `config` is `"tiny"` (fast on CPU) or `"paper"` (the published model); keyword `overrides`
    change single constructor arguments. `pretrained` names a tag of the registry's pretrained table
    (e.g. `"coic_synthmix"`); `"brn.tag"` names it inline.
    """
    if name.startswith("local-dir:"):
        from .checkpoint import load_model_dir

        return load_model_dir(name[len("local-dir:") :])
    if name.startswith("hf-hub:") or pretrained or "." in name:
        from .pretrained import load_pretrained

        return load_pretrained(name, coic=coic, pretrained=pretrained)
    if "/" in name or "\\" in name:
        raise ZooError(
            f"'{name}' looks like a path; use 'local-dir:{name}' for a saved model folder "
            f"or 'hf-hub:ORG/REPO' for a Hub repository"
        )
    return build_model(name, coic=coic, config=config, **overrides)
