"""What each part of a CoIC train step must change, read from the real `Trainer.train_step`.

A CoIC whose encoder stops learning still trains a working deraining backbone, so every
restoration-quality test passes with it (issue 30: `loss = restoration + 0.0 * contrast` passed the
whole suite). These tests pin where the training signal goes instead:

- stage 2: the InfoNCE term reaches the query encoder and nothing else; the restoration term reaches
  the backbone, the modulation MLPs and, through z only, the encoder; the z the backbone is modulated
  with is the query encoder's; `contrast_weight` scales the InfoNCE gradient linearly; the key
  encoder moves by exactly k = m*k + (1-m)*q with the configured m;
- stage 1 (steps 0..stage1_iters, as the official `<=`): the backbone alone learns;
- a baseline run never builds an encoder, draws no contrastive views, and has one optimiser.

Each test builds a tiny BRN trainer (batch 2, 32x32 crops) and runs one to three steps on CPU.
`tools/mutation_check.py` checks that these tests fail when CoIC's core is broken line by line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor, nn

import zoo.training.trainer as trainer_module
from zoo.coic.contrastive import RainArchive, build_views
from zoo.coic.encoder import MomentumEncoder, RainDetailEncoder
from zoo.coic.model import CoICModel
from zoo.coic.modulation import ModulationContext, modulated_layers, modulation_parameters
from zoo.data.mixing import MixedPatches, training_sources
from zoo.models.build import build_model
from zoo.training.config import TrainConfig
from zoo.training.runtime import Runtime
from zoo.training.trainer import Trainer

BATCH, CROP = 2, 32
MOMENTUM = 0.75  # far from the default 0.999, so a key encoder that ignores the configured m shows at once


def _config(**changes: Any) -> TrainConfig:
    settings: dict[str, Any] = {
        "batch": BATCH, "crop": CROP, "synth_count": 4, "synth_size": 48, "iters": 10, "stage1_iters": 0,
        "ckpt_every": 100, "momentum": MOMENTUM, **changes,
    }
    return TrainConfig("brn", **settings)


def _trainer(tmp_path: Path, name: str = "run", **changes: Any) -> Trainer:
    return Trainer(_config(**changes), tmp_path / name, runtime=Runtime(device="cpu", workers=0))


@pytest.fixture(scope="module")
def batch() -> dict[str, Tensor]:
    """Two training samples with their contrastive inputs (whole images resized to the crop)."""
    data = MixedPatches(training_sources("synthmix", synth_count=4, synth_size=48), CROP, contrastive=True)
    samples = [data[k] for k in range(BATCH)]
    return {key: torch.stack([s[key] for s in samples]) for key in samples[0]}


def _parts(model: CoICModel) -> dict[str, list[tuple[str, nn.Parameter]]]:
    """The parameters a stage-2 step trains, by role. The encoder's MLP only makes z; the rest of it makes
    the feature map the InfoNCE logits compare."""
    added = {id(p) for p in modulation_parameters(model.backbone)}
    encoder = list(model.encoder.named_parameters())
    return {
        "encoder features": [(n, p) for n, p in encoder if not n.startswith("mlp.")],
        "encoder mlp": [(n, p) for n, p in encoder if n.startswith("mlp.")],
        "modulation": [(n, p) for n, p in model.backbone.named_parameters() if id(p) in added],
        "backbone": [(n, p) for n, p in model.backbone.named_parameters() if id(p) not in added],
    }


def _grads(params: list[tuple[str, nn.Parameter]]) -> list[Tensor]:
    """Each parameter's gradient, zeros where autograd left none."""
    return [torch.zeros_like(p) if p.grad is None else p.grad.detach().clone() for _, p in params]


def _norm(grads: list[Tensor]) -> float:
    return float(sum(g.double().pow(2).sum() for g in grads) ** 0.5)


def _snapshot(module: nn.Module) -> list[Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def _no_restoration(outputs: Any, clean: Tensor, rainy: Tensor) -> Tensor:
    """A restoration loss of zero that carries no gradient: the step's loss is the InfoNCE term alone."""
    return torch.zeros((), device=clean.device)


def _contrast_only_grads(tmp_path: Path, batch: dict[str, Tensor], weight: float, name: str) -> tuple[list[Tensor], float]:
    trainer = _trainer(tmp_path, name, contrast_weight=weight)
    trainer.restoration = _no_restoration
    trainer.step = 1  # stage 2 starts after step stage1_iters = 0
    logs = trainer.train_step(batch)
    assert logs["stage"] == 2.0
    return _grads(_parts(trainer.model)["encoder features"]), logs["contrast"]


def test_infonce_reaches_the_query_encoder_and_nothing_else(tmp_path: Path, batch: dict[str, Tensor]) -> None:
    trainer = _trainer(tmp_path)
    trainer.restoration = _no_restoration
    trainer.step = 1
    logs = trainer.train_step(batch)
    parts = _parts(trainer.model)
    assert logs["contrast"] > 0.0
    assert _norm(_grads(parts["encoder features"])) > 0.0, "the contrastive term must train the query encoder"
    for role in ("encoder mlp", "modulation", "backbone"):  # the logits compare feature maps; z is not in them
        assert _norm(_grads(parts[role])) == 0.0, f"InfoNCE reached the {role}"
    assert all(p.grad is None for p in trainer.model.key_encoder.parameters()), "the key encoder takes no gradient"


def test_restoration_reaches_the_encoder_only_through_z(tmp_path: Path, batch: dict[str, Tensor]) -> None:
    """With the contrastive weight at 0, whatever reaches the encoder came through z and the modulated convolutions."""
    trainer = _trainer(tmp_path, contrast_weight=0.0)
    trainer.step = 1
    trainer.train_step(batch)
    parts = _parts(trainer.model)
    for role in ("backbone", "modulation", "encoder mlp", "encoder features"):
        assert _norm(_grads(parts[role])) > 0.0, f"the restoration loss does not reach the {role}"


def test_backbone_is_modulated_with_the_query_encoders_z(
    tmp_path: Path, batch: dict[str, Tensor], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The z of the InfoNCE query (the whole image, query encoder, not detached) is the z the layers read."""
    returned: list[Tensor] = []
    seen: list[Tensor] = []
    original_loss, original_use = trainer_module.contrastive_loss, ModulationContext.use

    def loss_spy(*args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
        loss, z = original_loss(*args, **kwargs)
        returned.append(z)
        return loss, z

    def use_spy(self: ModulationContext, z: Tensor | None) -> Any:
        if z is not None:
            seen.append(z)
        return original_use(self, z)

    monkeypatch.setattr(trainer_module, "contrastive_loss", loss_spy)
    monkeypatch.setattr(ModulationContext, "use", use_spy)
    trainer = _trainer(tmp_path)
    trainer.step = 1
    trainer.train_step(batch)
    assert len(returned) == 1 and seen, "one InfoNCE per step, and a modulated forward pass"
    assert all(z is returned[0] for z in seen), "the backbone was modulated with another z than the query encoder's"
    assert seen[0].requires_grad, "z is detached: the restoration loss cannot train the encoder"


def test_step_uses_the_configured_temperature(tmp_path: Path, batch: dict[str, Tensor], monkeypatch: pytest.MonkeyPatch) -> None:
    temperatures: list[float] = []
    original = trainer_module.contrastive_loss

    def spy(encoder: Any, key_encoder: Any, views: Any, temperature: float = 1.0, **kwargs: Any) -> tuple[Tensor, Tensor]:
        temperatures.append(temperature)
        return original(encoder, key_encoder, views, temperature, **kwargs)

    monkeypatch.setattr(trainer_module, "contrastive_loss", spy)
    trainer = _trainer(tmp_path, temperature=0.3)
    trainer.step = 1
    trainer.train_step(batch)
    assert temperatures == [0.3]


def test_contrast_weight_scales_the_encoder_gradient_linearly(tmp_path: Path, batch: dict[str, Tensor]) -> None:
    """Weight 2w gives twice the encoder gradient of weight w, the restoration term removed from both.

    Both trainers start from the same seed and see the same views, so the two backward passes run
    the same operations on incoming gradients that differ by a factor of 2. Every backward operation
    is linear in its incoming gradient and a power of two scales binary floating point exactly, so the
    two agree bit for bit in practice; rtol 1e-6 (a few float32 ulps) only allows for a kernel that
    sums in another order from one call to the next, far below the factor 2 a wrong weighting gives.
    """
    single, contrast_w = _contrast_only_grads(tmp_path, batch, 0.25, "w")
    double, contrast_2w = _contrast_only_grads(tmp_path, batch, 0.5, "2w")
    assert contrast_w == pytest.approx(contrast_2w, rel=1e-6), "the two steps must see the same InfoNCE"
    assert _norm(single) > 0.0, "the contrastive term gives the encoder no gradient"
    scale = max(float(g.abs().max()) for g in single)
    for one, two in zip(single, double):
        torch.testing.assert_close(two, 2.0 * one, rtol=1e-6, atol=1e-6 * scale)


def test_stage_two_step_trains_every_part_and_moves_the_key_by_the_momentum_rule(
    tmp_path: Path, batch: dict[str, Tensor]
) -> None:
    trainer = _trainer(tmp_path)
    model = trainer.model
    assert model.key_encoder.momentum == MOMENTUM
    with torch.no_grad():  # key != query, so a wrong mix of the two shows (they start as copies)
        for p in model.key_encoder.parameters():
            p.add_(0.1 * torch.randn_like(p))
    key_before, query_before = _snapshot(model.key_encoder), _snapshot(model.encoder)
    parts_before = {role: [p.detach().clone() for _, p in params] for role, params in _parts(model).items()}
    trainer.step = 1
    trainer.train_step(batch)
    # MoCo: the key moves once per step, before the query's optimiser step, towards the query it saw.
    for (name, key), k0, q0 in zip(model.key_encoder.encoder.named_parameters(), key_before, query_before):
        expected = MOMENTUM * k0 + (1.0 - MOMENTUM) * q0
        assert not torch.equal(expected, k0)
        torch.testing.assert_close(key, expected, rtol=1e-6, atol=1e-7, msg=f"key encoder {name}")
    for role, params in _parts(model).items():
        unchanged = [n for (n, p), before in zip(params, parts_before[role]) if torch.equal(p, before)]
        assert not unchanged, f"a stage-2 step left these {role} parameters unchanged: {unchanged}"


def test_stage_one_trains_the_backbone_alone_until_stage1_iters(tmp_path: Path, batch: dict[str, Tensor]) -> None:
    """Steps 0..stage1_iters are stage 1 (the official `if step <= stage1_iters`): encoder, key encoder and
    modulation MLPs get no gradient and do not move; the first step after is stage 2."""
    trainer = _trainer(tmp_path, stage1_iters=1)
    model = trainer.model
    for step in (0, 1):
        encoder, key = _snapshot(model.encoder), _snapshot(model.key_encoder)
        modulation = [p.detach().clone() for _, p in _parts(model)["modulation"]]
        backbone = [p.detach().clone() for _, p in _parts(model)["backbone"]]
        logs = trainer.train_step(batch)
        assert logs["stage"] == 1.0 and logs["contrast"] == 0.0, f"step {step} must be stage 1"
        parts = _parts(model)
        for role in ("encoder features", "encoder mlp", "modulation"):
            assert _norm(_grads(parts[role])) == 0.0, f"stage 1 sent gradient to the {role}"
        assert all(torch.equal(a, b) for a, b in zip(encoder, _snapshot(model.encoder)))
        assert all(torch.equal(a, b) for a, b in zip(key, _snapshot(model.key_encoder)))
        assert all(torch.equal(a, p) for a, (_, p) in zip(modulation, parts["modulation"]))
        assert any(not torch.equal(a, p) for a, (_, p) in zip(backbone, parts["backbone"])), "stage 1 must train the backbone"
    logs = trainer.train_step(batch)
    assert logs["stage"] == 2.0 and logs["contrast"] > 0.0
    assert _norm(_grads(_parts(model)["encoder features"])) > 0.0


def test_z_comes_from_the_query_encoder_in_training_and_the_key_encoder_in_eval() -> None:
    torch.manual_seed(0)
    model = build_model("brn", coic=True)
    assert isinstance(model, CoICModel)
    with torch.no_grad():
        for p in model.key_encoder.parameters():
            p.add_(0.1 * torch.randn_like(p))
    x = torch.rand(2, 3, 40, 40)
    with torch.no_grad():
        model.train()
        query_z, key_z = model.encoder(model.encoder_input(x))[0], model.key_encoder(model.encoder_input(x))[0]
        assert not torch.allclose(query_z, key_z)
        torch.testing.assert_close(model.embed(x), query_z)
        model.eval()
        torch.testing.assert_close(model.embed(x), model.key_encoder(model.encoder_input(x))[0])


def test_positive_key_is_a_random_flip_of_the_query() -> None:
    """The key is the query flipped at random: always one of its four flips, and not always the query itself
    (a positive that is an exact copy makes the InfoNCE trivial)."""
    rainy = torch.rand(2, 3, 8, 8)
    clean = rainy * 0.5
    flips_seen = set()
    for seed in range(8):
        views = build_views(rainy, clean, rainy, clean, RainArchive(), 1, torch.Generator().manual_seed(seed))
        assert torch.equal(views.query, rainy)
        for q, k in zip(views.query, views.key):
            flips = [q, q.flip(-1), q.flip(-2), q.flip(-1).flip(-2)]
            matches = [i for i, f in enumerate(flips) if torch.equal(k, f)]
            assert matches, "the key must be a flip of the query"
            flips_seen.add(matches[0])
    assert len(flips_seen) > 1, f"over 8 seeds the key was always flip {flips_seen}: never flipped at random"


def test_baseline_never_builds_or_updates_an_encoder(
    tmp_path: Path, batch: dict[str, Tensor], monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    original_init = RainDetailEncoder.__init__

    def counting_init(self: RainDetailEncoder, *args: Any, **kwargs: Any) -> None:
        built.append("encoder")
        original_init(self, *args, **kwargs)

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a baseline step drew contrastive views or computed the InfoNCE")

    monkeypatch.setattr(RainDetailEncoder, "__init__", counting_init)
    monkeypatch.setattr(trainer_module, "build_views", forbidden)
    monkeypatch.setattr(trainer_module, "contrastive_loss", forbidden)
    trainer = _trainer(tmp_path, coic=False)
    trainer.step = 1  # past stage1_iters: a CoIC run would be in stage 2 here
    plain = {key: batch[key] for key in ("rainy", "clean")}  # what the baseline's data loader gives
    before = _snapshot(trainer.model)
    logs = trainer.train_step(plain)
    assert not built, "a baseline run built a rain-/detail-aware encoder"
    assert not isinstance(trainer.model, CoICModel) and not trainer.coic
    assert not any(isinstance(m, (RainDetailEncoder, MomentumEncoder)) for m in trainer.model.modules())
    assert not list(modulated_layers(trainer.model))
    assert set(trainer.optimizers) == {"base"} and not trainer.archive.batches
    assert logs["stage"] == 1.0 and logs["contrast"] == 0.0
    assert any(not torch.equal(a, b) for a, b in zip(before, _snapshot(trainer.model))), "the baseline must still train"
