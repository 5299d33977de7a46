"""Pretrained model folders that ship inside the package: no download, no cache, no network.

A table entry with `packaged=True` (`brn.coic_synthmix`, `brn.baseline_synthmix`) has its model
folder under `zoo/models/assets/pretrained/<backbone>.<tag>/`, installed with coic-zoo as package
data. Loading it reads that folder in place (read-only is fine) after checking every file against
the sha256 the table records, so a damaged or edited install is refused instead of loaded. The same
bytes are mirrored on the Hub under the entry's `hf_hub_id` by the release step (README, "Releasing
the packaged models"); `zoo.models.hub.pull` of that repository checks them against the same hashes.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import CheckpointError, ZooError
from .files import sha256_file
from .pretrained import PretrainedCfg

PACKAGED_ROOT = Path(__file__).resolve().parent / "assets" / "pretrained"


def packaged_path(cfg: PretrainedCfg) -> Path:
    """Where the package keeps the model folder of `cfg` (whether or not it is there)."""
    return PACKAGED_ROOT / cfg.name


def packaged_folder(cfg: PretrainedCfg) -> Path:
    """The packaged model folder of `cfg`, every file present and matching the table's sha256."""
    if not cfg.packaged:
        raise ZooError(f"'{cfg.name}' is not packaged with coic-zoo; it is fetched from {cfg.origin_url or cfg.hf_hub_id}")
    folder = packaged_path(cfg)
    for file, expected in cfg.files.items():
        path = folder / file
        if not path.is_file():
            mirror = f" or load its Hub mirror 'hf-hub:{cfg.hf_hub_id}'" if cfg.hf_hub_id else ""
            raise CheckpointError(
                f"{path}: missing from the installed coic-zoo package ({cfg.name}); reinstall coic-zoo "
                f"(`pip install --force-reinstall coic-zoo`){mirror}"
            )
        actual = sha256_file(path)
        if actual != expected:
            raise CheckpointError(
                f"{path}: sha256 {actual} is not {expected}, recorded for {cfg.name} in the pretrained table; "
                "the installed package was changed: reinstall coic-zoo"
            )
    return folder
