"""coic-zoo: deraining backbones, trained and compared with and without CoIC (ICLR 2024).

Public API, shaped like timm's:

    import zoo
    zoo.list_models("*")                       # registered backbones
    net = zoo.create_model("brn", coic=True)   # tiny BRN with CoI-M and its encoder
    zoo.coicify(any_plain_model, dim_z=128)    # CoIC for a model the registry has never seen
"""

from .catalog import list_models, model_info, register_backbone
from .coic import CoICModel, coicify
from .errors import ZooError
from .layers import ContextPoint
from .models import create_model, list_pretrained, load_pretrained, pretrained_cfg
from .version import __version__

__all__ = [
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
