"""Evaluating a checkpoint file directly: `zoo evaluate FILE.pth --data ...` without a `zoo convert` step first.

The file is converted exactly as `zoo convert` would (official CoIC checkpoints with `backbone` set to
one of coic-zoo's backbones; anything spandrel reads otherwise) into a temporary model folder, loaded
back from it, and scored on the test sets of `data` with `evaluate_set`. Going through the folder,
rather than using the converter's in-memory model, means the numbers are those of the model that a
later `zoo convert` + `local-dir:` would give.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn

from ..catalog import model_info
from ..data.mixing import evaluation_sets
from ..errors import ZooError
from ..models.checkpoint import load_model_dir
from ..models.convert import convert_external, convert_official
from .devices import resolve_device
from .evaluate import evaluate_set
from .inference import OFFICIAL_TILE
from .protocols import DEFAULT_PROTOCOL, get_protocol


def load_checkpoint(
    path: Path, backbone: str | None = None, encoder: Path | None = None, baseline: bool = False
) -> tuple[nn.Module, str]:
    """(model, one-line description) of the checkpoint `path`, converted as `zoo convert` converts it.

    A CoIC checkpoint without its encoder is refused: its z would come from an untrained encoder,
    and the numbers would describe nothing.
    """
    path = Path(path)
    official = backbone is not None and model_info(backbone).source == "zoo"
    if not official and (encoder is not None or baseline):
        raise ZooError("--encoder and --baseline are for official CoIC checkpoints of our five backbones; pass --backbone NAME")
    with tempfile.TemporaryDirectory(prefix="zoo-evaluate-") as tmp:
        folder = Path(tmp) / "model"
        if official:
            _, summary = convert_official(path, backbone, folder, encoder=encoder, baseline=baseline)
            if summary["kind"] == "coic" and encoder is None:
                raise ZooError(
                    f"{path}: a CoIC checkpoint; pass its encoder with --encoder (the official "
                    f"checkpoints/CoIC/{backbone}_enc.pth), or --baseline to evaluate the network without modulation"
                )
            kind = f"official {backbone} ({summary['kind']})"
        else:
            _, summary = convert_external(path, folder, backbone)
            kind = f"{summary['backbone']}, read by spandrel"
        model = load_model_dir(folder)
    return model, f"{path.name}: {kind}, {summary['params']:,} parameters"


def evaluate_checkpoint(
    path: Path,
    data: str,
    root: Path | None = None,
    protocol: str = DEFAULT_PROTOCOL,
    backbone: str | None = None,
    encoder: Path | None = None,
    baseline: bool = False,
    device: str = "auto",
    on_set: Callable[[str, int], None] | None = None,
) -> dict[str, Any]:
    """Mean input/output PSNR/SSIM of the checkpoint `path` on each test set of `data`.

    Returns {"model": description, "protocol", "data", "datasets": {name: evaluate_set's result}}.
    The backbone's official tiling applies, as for runs; scores are computed on the CPU in float64.
    """
    get_protocol(protocol)
    sets = evaluation_sets(data, root)  # before the conversion: a wrong --data or --root fails at once
    where = resolve_device(device)
    model, description = load_checkpoint(path, backbone, encoder, baseline)
    model = model.to(where)
    results = {}
    for name, pairs in sets.items():
        if on_set is not None:
            on_set(name, len(pairs))
        results[name] = evaluate_set(model, pairs, protocol, tile=OFFICIAL_TILE)
    return {"model": description, "protocol": protocol, "data": data, "datasets": results}
