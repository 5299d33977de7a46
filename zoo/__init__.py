"""coic-zoo: deraining backbones, trained and compared with and without CoIC (ICLR 2024).

Public API, shaped like timm's:

    import zoo
    zoo.list_models("*")                       # registered backbones
    net = zoo.create_model("brn", coic=True)   # tiny BRN with CoI-M and its encoder
    zoo.coicify(any_plain_model, dim_z=128)    # CoIC for a model the registry has never seen

The names below are imported on first use (PEP 562), so `import zoo` and the `zoo` command line
start without importing torch; `zoo.create_model` imports what it needs when it is called.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import ZooError
from .version import __version__

_LAZY = {
    "BackboneSpec": "zoo.catalog",
    "CoICModel": "zoo.coic",
    "ContextPoint": "zoo.layers",
    "coicify": "zoo.coic",
    "create_model": "zoo.models",
    "list_models": "zoo.catalog",
    "list_pretrained": "zoo.models",
    "load_pretrained": "zoo.models",
    "model_info": "zoo.catalog",
    "pretrained_cfg": "zoo.models",
    "register_backbone": "zoo.catalog",
}

if TYPE_CHECKING:
    from .catalog import BackboneSpec, list_models, model_info, register_backbone
    from .coic import CoICModel, coicify
    from .layers import ContextPoint
    from .models import create_model, list_pretrained, load_pretrained, pretrained_cfg


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "BackboneSpec",
    "CoICModel",
    "ContextPoint",
    "ZooError",
    "__version__",
    "coicify",
    "create_model",
    "list_models",
    "list_pretrained",
    "load_pretrained",
    "model_info",
    "pretrained_cfg",
    "register_backbone",
]
