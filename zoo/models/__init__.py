"""Models: building, saving, loading, publishing and converting backbones with or without CoIC."""

from .build import BUILD_ATTR, build_model
from .checkpoint import load_model_dir, read_config, save_model_dir
from .factory import create_model, load_pretrained
from .pretrained import PretrainedCfg, list_pretrained, pretrained_cfg, register_pretrained

__all__ = [
    "BUILD_ATTR",
    "PretrainedCfg",
    "build_model",
    "create_model",
    "list_pretrained",
    "load_model_dir",
    "load_pretrained",
    "pretrained_cfg",
    "read_config",
    "register_pretrained",
    "save_model_dir",
]
