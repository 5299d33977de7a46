"""Rain-/detail-aware contrastive learning, the signal that trains CoIC's encoder.

For each rainy training image (as the official `train_*.py` scripts build it):
- query: the whole rainy image resized to the patch size, through the query encoder;
- positive key: a randomly flipped copy of the query, through the momentum encoder;
- rain-aware negative: the clean patch carrying the most different rain layer (largest L1 distance)
  of the batch (official BRN, IDT), or of a pool of the last 64 // batch batches filled from step 0
  (official RCDNet, DGUNet, DRSformer, whose batches are small);
- detail-aware negatives: `n_neg` copies of the resized clean image, each Gaussian-blurred
  (kernel 11, sigma 0.3-1.5) and randomly flipped.
Similarity is the mean over locations of the cosine between the normalised feature maps; the loss
is cross-entropy with the positive at index 0, at a temperature.

The official code draws one flip and one blur sigma per batch (a side effect of applying torchvision
transforms to a batch tensor), so an image's `n_neg` detail negatives are copies of one; that is the
default here. `per_image=True` draws them per instance instead (the recipe option `per_image_views`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .encoder import MomentumEncoder, RainDetailEncoder

BLUR_KERNEL = 11
BLUR_SIGMA = (0.3, 1.5)
# Which negatives enter the logits: both kinds (the paper), or one kind only (the ablation).
NEGATIVES = ("both", "rain", "detail")


def random_flips(images: Tensor, generator: torch.Generator, per_image: bool = False) -> Tensor:
    """Flip horizontally and/or vertically with probability 1/2 each: one draw for the batch, or one per image."""
    n = images.shape[0]
    draws = n if per_image else 1
    horizontal = (torch.rand(draws, generator=generator) < 0.5).expand(n).to(images.device)
    vertical = (torch.rand(draws, generator=generator) < 0.5).expand(n).to(images.device)
    out = images.clone()
    out[horizontal] = out[horizontal].flip(-1)
    out[vertical] = out[vertical].flip(-2)
    return out


def gaussian_blur(images: Tensor, sigmas: Tensor, kernel_size: int = BLUR_KERNEL) -> Tensor:
    """Blur image i with its own sigma (reflect padding, separable kernel), as torchvision's GaussianBlur."""
    n, c, h, w = images.shape
    offsets = torch.arange(kernel_size, dtype=images.dtype, device=images.device) - kernel_size // 2
    kernels = torch.exp(-(offsets[None, :] ** 2) / (2 * sigmas.to(images)[:, None] ** 2))
    kernels = kernels / kernels.sum(dim=1, keepdim=True)  # n x k
    weight = kernels.repeat_interleave(c, dim=0)  # (n*c) x k
    pad = kernel_size // 2
    flat = F.pad(images.reshape(1, n * c, h, w), (pad, pad, pad, pad), mode="reflect")
    flat = F.conv2d(flat, weight[:, None, None, :], groups=n * c)
    flat = F.conv2d(flat, weight[:, None, :, None], groups=n * c)
    return flat.reshape(n, c, h, w)


class RainArchive:
    """The rain layers (rainy - clean) of the last few batches: the pool rain-aware negatives come from."""

    def __init__(self, capacity_images: int = 64) -> None:
        self.capacity_images = capacity_images
        self.batches: list[Tensor] = []

    def push(self, rain: Tensor) -> Tensor:
        """Add this batch's rain, drop the oldest batches beyond capacity, return the whole pool."""
        keep = max(self.capacity_images // max(rain.shape[0], 1), 1)
        self.batches = (self.batches + [rain.detach()])[-keep:]
        return torch.cat(self.batches, dim=0)

    def state_dict(self) -> dict[str, Tensor]:
        return {f"batch{i}": t for i, t in enumerate(self.batches)}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        self.batches = [state[f"batch{i}"] for i in range(len(state))]


def most_different_rain(rain: Tensor, pool: Tensor) -> Tensor:
    """For each rain layer of the batch, the pool's layer with the largest L1 distance to it."""
    distance = (rain.unsqueeze(1) - pool.unsqueeze(0)).abs().sum(dim=(2, 3, 4))
    return pool[distance.argmax(dim=1)]


@dataclass
class ContrastiveViews:
    query: Tensor  # B x 3 x S x S
    key: Tensor  # B x 3 x S x S
    negatives: Tensor  # B x (1 + n_neg) x 3 x S x S, rain-aware first


def build_views(
    rainy_full: Tensor,
    clean_full: Tensor,
    rainy_patch: Tensor,
    clean_patch: Tensor,
    archive: RainArchive | Tensor | None,
    n_neg: int,
    generator: torch.Generator,
    per_image: bool = False,
) -> ContrastiveViews:
    """Query, positive key and negatives for one batch; `*_full` are the whole images resized to the patch size.

    `archive` is where the rain-aware negative comes from: a `RainArchive` (this batch is pushed
    first), a ready pool of rain layers that already holds this batch, or None for this batch only.
    """
    if rainy_full.shape[-2:] != rainy_patch.shape[-2:]:
        raise ValueError("the resized whole images must have the patch size, as the negatives mix both")
    b = rainy_patch.shape[0]
    key = random_flips(rainy_full, generator, per_image)
    rain = rainy_patch - clean_patch
    pool = archive.push(rain) if isinstance(archive, RainArchive) else (rain if archive is None else archive)
    rain_negative = (most_different_rain(rain, pool) + clean_patch).clamp(0.0, 1.0)
    blurred = clean_full.unsqueeze(1).expand(b, n_neg, *clean_full.shape[1:]).reshape(b * n_neg, *clean_full.shape[1:])
    low, high = BLUR_SIGMA
    sigmas = (low + (high - low) * torch.rand(b * n_neg if per_image else 1, generator=generator)).expand(b * n_neg)
    detail = random_flips(gaussian_blur(blurred, sigmas), generator, per_image).reshape(b, n_neg, *clean_full.shape[1:])
    return ContrastiveViews(rainy_full, key, torch.cat([rain_negative.unsqueeze(1), detail], dim=1))


def contrastive_logits(
    query_features: Tensor, key_features: Tensor, negative_features: Tensor, temperature: float
) -> Tensor:
    """B x (1 + K) logits: mean per-location cosine of unit-norm feature maps, positive first."""
    b = query_features.shape[0]
    locations = query_features.shape[-2] * query_features.shape[-1]
    q = query_features.reshape(b, -1)
    positive = (q * key_features.reshape(b, -1)).sum(dim=-1, keepdim=True) / locations
    negative = (q.unsqueeze(1) * negative_features.reshape(b, negative_features.shape[1], -1)).sum(dim=-1) / locations
    return torch.cat([positive, negative], dim=1) / temperature


def select_negatives(negatives: Tensor, which: str) -> Tensor:
    """The negatives of kind `which` from B x (1 + n_neg) x ... views: "both", "rain" (the first) or "detail" (the rest)."""
    if which == "both":
        return negatives
    if which == "rain":
        return negatives[:, :1]
    if which == "detail":
        return negatives[:, 1:]
    raise ValueError(f"negatives must be one of {NEGATIVES}, got {which!r}")


def contrastive_loss(
    encoder: RainDetailEncoder,
    key_encoder: MomentumEncoder,
    views: ContrastiveViews,
    temperature: float = 1.0,
    update_key: bool = True,
    negatives: str = "both",
) -> tuple[Tensor, Tensor]:
    """(InfoNCE loss, query z). Updates the momentum encoder first, as MoCo and the official code do.

    `update_key=False` skips the update: with gradient accumulation the momentum step belongs to the
    optimiser step, so only the first micro-batch of a step makes it. `negatives="rain"` or
    `"detail"` leaves the other kind out of the logits (and out of the key encoder's batch): the
    paper's rain-/detail-aware ablation.
    """
    z, query_features = encoder(views.query)
    kept = select_negatives(views.negatives, negatives)
    b, k = kept.shape[:2]
    with torch.no_grad():
        if update_key:
            key_encoder.update(encoder)
        _, keyed = key_encoder(torch.cat([views.key, kept.flatten(0, 1)], dim=0))
    logits = contrastive_logits(query_features, keyed[:b], keyed[b:].reshape(b, k, *keyed.shape[1:]), temperature)
    labels = torch.zeros(b, dtype=torch.long, device=logits.device)
    return F.cross_entropy(logits, labels), z
