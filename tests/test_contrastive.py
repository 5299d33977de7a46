"""Rain-/detail-aware negatives and the InfoNCE loss."""

from __future__ import annotations

import torch

from zoo.coic.contrastive import (
    RainArchive,
    build_views,
    contrastive_logits,
    contrastive_loss,
    gaussian_blur,
    most_different_rain,
)
from zoo.coic.encoder import MomentumEncoder, RainDetailEncoder


def _batch(b: int = 4, size: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    clean = torch.rand(b, 3, size, size) * 0.5
    strengths = torch.tensor([0.05, 0.1, 0.4, 0.2])[:b]
    rain = torch.zeros(b, 3, size, size)
    rain[:, :, :, ::3] = strengths[:, None, None, None]
    return clean + rain, clean


def _high_frequency(x: torch.Tensor) -> float:
    return float((x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean())


def test_rain_negative_is_the_most_different_rain_of_the_batch() -> None:
    rainy, clean = _batch()
    views = build_views(rainy, clean, rainy, clean, RainArchive(), 2, torch.Generator().manual_seed(0))
    rain = rainy - clean
    distances = (rain[:, None] - rain[None]).abs().sum(dim=(2, 3, 4))
    for i in range(4):
        j = int(distances[i].argmax())
        assert j != i
        torch.testing.assert_close(views.negatives[i, 0], (clean[i] + rain[j]).clamp(0, 1))
    # the weakest rain's most different partner is the strongest one
    torch.testing.assert_close(most_different_rain(rain, rain)[0], rain[2])


def test_archive_supplies_rain_from_earlier_batches() -> None:
    archive = RainArchive(capacity_images=8)
    rainy, clean = _batch()
    extreme = torch.ones_like(clean[:2])
    archive.push(extreme)
    views = build_views(rainy, clean, rainy, clean, archive, 1, torch.Generator().manual_seed(0))
    torch.testing.assert_close(views.negatives[:, 0], (clean + 1.0).clamp(0, 1))
    assert len(archive.batches) == 2
    for _ in range(5):
        archive.push(rainy - clean)
    assert sum(t.shape[0] for t in archive.batches) <= 8


def test_detail_negatives_are_blurred_flipped_clean_backgrounds() -> None:
    rainy, clean = _batch()
    clean_full = torch.rand(4, 3, 16, 16)
    views = build_views(rainy, clean_full, rainy, clean, RainArchive(), 3, torch.Generator().manual_seed(1))
    details = views.negatives[:, 1:]
    assert details.shape == (4, 3, 3, 16, 16)
    assert _high_frequency(details) < 0.8 * _high_frequency(clean_full)
    for i in range(4):
        for k in range(3):
            candidates = [clean_full[i], clean_full[i].flip(-1), clean_full[i].flip(-2), clean_full[i].flip(-1).flip(-2)]
            sigmas = torch.linspace(0.3, 1.5, 49)
            blurred = [gaussian_blur(c[None], torch.tensor([float(s)]))[0] for c in candidates for s in sigmas]
            low = min(float((details[i, k] - b).abs().max()) for b in blurred)
            assert low < 0.01, "a detail negative must be a blurred (possibly flipped) clean background"


def test_key_is_a_flip_of_the_query() -> None:
    rainy, clean = _batch()
    views = build_views(rainy, clean, rainy, clean, RainArchive(), 1, torch.Generator().manual_seed(2))
    for q, k in zip(views.query, views.key):
        assert any(torch.equal(k, v) for v in (q, q.flip(-1), q.flip(-2), q.flip(-1).flip(-2)))


def test_logits_are_mean_per_location_cosines() -> None:
    q = torch.nn.functional.normalize(torch.randn(2, 4, 3, 3), dim=1)
    logits = contrastive_logits(q, q, -q.unsqueeze(1), temperature=0.5)
    torch.testing.assert_close(logits, torch.tensor([[2.0, -2.0], [2.0, -2.0]]))


def test_loss_falls_on_a_fixed_batch() -> None:
    torch.manual_seed(0)
    encoder = RainDetailEncoder(width=8, dim_z=16)
    key = MomentumEncoder(encoder, momentum=0.9)
    rainy, clean = _batch(size=32)
    views = build_views(rainy, clean, rainy, clean, RainArchive(), 4, torch.Generator().manual_seed(0))
    optimizer = torch.optim.Adam(encoder.parameters(), lr=3e-3)
    losses = []
    for _ in range(60):
        loss, z = contrastive_loss(encoder, key, views)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert z.shape == (4, 16)
    # Cosine logits at temperature 1 bound the loss below by log(1 + 5/e^2) = 0.52; from log(6) = 1.79.
    assert sum(losses[-5:]) / 5 < 0.85 * sum(losses[:5]) / 5
