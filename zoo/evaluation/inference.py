"""Full-image and tiled inference: `restore` derains a batch of images, whole or in tiles.

Tiling follows the official `test_model.py`: tiles are used only when the image's smaller side
exceeds the tile, the last tile is snapped to the border, overlapping tiles are merged with a
centre-weighted map (1 / sqrt(dh^2 + dw^2 + 1e-3) with dh, dw measured from n/2, from IDT's test
script), and for CoIC the embedding z is computed once from the whole image and reused for every
tile, so tiling never changes what the model is told about the rain. `evaluate_set` (in `evaluate`) uses each
backbone's official tiling by default (512 tiles, overlap 0; IDT 128 tiles, overlap 0).

The model runs on its own device; the images stay where they are (the CPU, usually): the whole
image is sent once for the encoder (which resizes it at once), then the whole image or one tile at
a time for the backbone, whose activations are what would not fit. The result comes back on the
input's device.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..catalog import model_info
from ..coic.model import CoICModel
from ..errors import ZooError
from ..models.build import BUILD_ATTR


def _tile_starts(length: int, tile: int, stride: int) -> list[int]:
    starts = list(range(0, max(length - tile, 0) + 1, stride))
    if starts[-1] + tile < length:
        starts.append(length - tile)
    return starts


OFFICIAL_TILE = "official"
"""`evaluate_set(tile=OFFICIAL_TILE)`: the backbone's official tile and overlap (`BackboneSpec.test_tile`)."""


def official_tiling(model: nn.Module) -> tuple[int | None, int]:
    """(tile, overlap) of the official evaluation of this model's backbone; whole images when it is unknown."""
    build = getattr(model, BUILD_ATTR, None)
    if build is None:
        return None, 0
    spec = model_info(build["backbone"])
    return spec.test_tile, spec.test_overlap


def resolve_tiling(model: nn.Module, tile: int | str | None, overlap: int | None) -> tuple[int | None, int]:
    """(tile, overlap) an evaluation runs with: `OFFICIAL_TILE` becomes the backbone's official tiling,
    an unset overlap the official 0 (or the backbone's official overlap)."""
    if tile == OFFICIAL_TILE:
        tile, official_overlap = official_tiling(model)
        overlap = official_overlap if overlap is None else overlap
    if isinstance(tile, str):
        raise ZooError(f"tile '{tile}' is neither a size nor '{OFFICIAL_TILE}'")
    return tile, 0 if overlap is None else overlap


def _centre_weight(tile_h: int, tile_w: int, like: Tensor) -> Tensor:
    """The official score map: centred on n/2 (not (n-1)/2), as `obtain_score_map` in test_model.py."""
    dh = torch.arange(tile_h, dtype=like.dtype, device=like.device) - tile_h / 2
    dw = torch.arange(tile_w, dtype=like.dtype, device=like.device) - tile_w / 2
    return 1.0 / torch.sqrt(dh[:, None] ** 2 + dw[None, :] ** 2 + 1e-3)


def _check_size(model: nn.Module, size: tuple[int, int]) -> None:
    """Refuse inputs below the backbone's minimum side with one line naming it."""
    build = getattr(model, BUILD_ATTR, None)
    if build is None:
        return
    minimum = model_info(build["backbone"]).min_size
    if min(size) < minimum:
        raise ZooError(
            f"{build['backbone']} needs images of at least {minimum}x{minimum} pixels (its down-sampling depth); "
            f"got {size[0]}x{size[1]}"
        )


def _run(model: nn.Module, x: Tensor, z: Tensor | None) -> Tensor:
    device = _device_of(model)
    if isinstance(model, CoICModel) and model.modulation:
        out = model(x.to(device), z=None if z is None else z.to(device))
    else:
        out = model(x.to(device))
    return out.to(x.device)


def _device_of(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


@torch.inference_mode()
def restore(model: nn.Module, image: Tensor, tile: int | None = None, overlap: int = 0, z: Tensor | None = None) -> Tensor:
    """Derain N x 3 x H x W images in [0, 1]; returns the clamped restoration of the same shape.

    With `tile`, images whose smaller side exceeds it are processed in `tile` x `tile` crops that
    overlap by `overlap` pixels; everything else runs on the whole image.
    """
    if image.dim() != 4 or image.shape[1] != 3:
        raise ZooError(f"expected images as N x 3 x H x W, got shape {tuple(image.shape)}")
    _check_size(model, image.shape[-2:] if tile is None else (min(tile, image.shape[-2]), min(tile, image.shape[-1])))
    if isinstance(model, CoICModel) and model.modulation and z is None:
        z = model.embed(image.to(_device_of(model)))
    _, _, h, w = image.shape
    if tile is None or min(h, w) <= tile:
        return _run(model, image, z).clamp(0.0, 1.0)
    if not 0 <= overlap < tile:
        raise ZooError(f"--overlap {overlap} must be at least 0 and smaller than --tile {tile}")
    stride = tile - overlap
    out = torch.zeros_like(image)
    weight_sum = torch.zeros_like(image[:, :1])
    weight = _centre_weight(tile, tile, image)
    for top in _tile_starts(h, tile, stride):
        for left in _tile_starts(w, tile, stride):
            crop = image[:, :, top : top + tile, left : left + tile]
            out[:, :, top : top + tile, left : left + tile] += _run(model, crop, z) * weight
            weight_sum[:, :, top : top + tile, left : left + tile] += weight
    return out.div_(weight_sum).clamp_(0.0, 1.0)  # in place: no second and third image-sized tensor
