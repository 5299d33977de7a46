"""`build_model`: a freshly initialised backbone from the catalog, optionally wrapped with CoIC.

The build arguments are recorded on the model (`BUILD_ATTR`) so that a model folder written later
can be rebuilt from its `config.json` alone.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ..catalog import model_info
from ..coic.encoder import build_encoder
from ..coic.model import ENCODER_RESIZES, CoICModel
from ..coic.modulation import LAYOUTS, Layout
from ..errors import UnknownNameError, ZooError

BUILD_ATTR = "zoo_build"


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
    try:
        net = spec.build(config, **overrides)
    except (TypeError, ValueError) as err:
        if not overrides:
            raise
        first = (str(err).splitlines() or [type(err).__name__])[0]
        raise ZooError(
            f"model settings {', '.join(f'model.{k}={v!r}' for k, v in overrides.items())} do not fit backbone "
            f"'{backbone}' ({first}); `zoo info {backbone}` lists its arguments"
        ) from None
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
        resize = str(settings.pop("resize", None) or "antialias")
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


def check_build(backbone: str, config: str = "tiny", **overrides: Any) -> None:
    """Build the plain backbone on the meta device (no memory, no init cost) so bad arguments fail now."""
    import torch

    with torch.device("meta"):
        build_model(backbone, config=config, **overrides)
