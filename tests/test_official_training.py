"""The official CoIC training and test behaviour is the default; each departure is a named option.

One test per row of the departures table (issue 11): rain pool, per-batch view draws, DGUNet's
explode guard, BRN's epoch-shifted milestones, momentum reaching the key encoder, the `<=` stage
switch, the encoder's resize, and the official evaluation tiling.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import zoo
from zoo.coic.contrastive import build_views
from zoo.evaluation.evaluate import evaluate_set
from zoo.evaluation.inference import _centre_weight, official_tiling
from zoo.training.config import TrainConfig
from zoo.training.recipes import RECIPE_OPTIONS, paper_recipe, tiny_recipe
from zoo.training.trainer import Trainer

SMALL = {"batch": 4, "crop": 32, "synth_count": 8, "synth_size": 48, "ckpt_every": 100}


def _trainer(tmp_path: Path, backbone: str = "brn", **changes) -> Trainer:
    return Trainer(TrainConfig(backbone, coic=True, **{**SMALL, **changes}), tmp_path / "run")


@pytest.mark.parametrize(
    ("backbone", "pool", "guard"),
    [("brn", False, 0.0), ("idt", False, 0.0), ("rcdnet", True, 0.0), ("dgunet", True, 10.0), ("drsformer", True, 0.0)],
)
def test_recipes_default_to_the_official_script(backbone: str, pool: bool, guard: float) -> None:
    for recipe in (paper_recipe(backbone), tiny_recipe(backbone)):
        assert (recipe.rain_pool, recipe.per_image_views, recipe.explode_guard) == (pool, False, guard)
    cfg = TrainConfig(backbone).resolved()
    assert (cfg.rain_pool, cfg.per_image_views, cfg.explode_guard) == (pool, False, guard)
    assert set(RECIPE_OPTIONS) == {"rain_pool", "per_image_views", "explode_guard"}


def test_brn_rain_negative_comes_from_the_current_batch_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trainer = _trainer(tmp_path, iters=3, stage1_iters=0)
    pools: list[object] = []
    import zoo.training.trainer as train_module

    original = train_module.build_views
    monkeypatch.setattr(train_module, "build_views", lambda *a, **k: pools.append(a[4]) or original(*a, **k))
    trainer.fit()
    assert pools == [None, None] and trainer.archive.batches == []


def test_pool_is_filled_from_step_zero(tmp_path: Path) -> None:
    trainer = _trainer(tmp_path, iters=3, stage1_iters=2, rain_pool=True)
    trainer.fit(stop_after=2)  # two stage-1 steps
    assert len(trainer.archive.batches) == 2
    trainer.fit()  # stage 2 draws from a pool that already holds the stage-1 batches
    assert len(trainer.archive.batches) == 3


def test_current_batch_pool_ignores_earlier_batches() -> None:
    clean = torch.rand(3, 3, 8, 8) * 0.5
    rainy = clean + torch.tensor([0.1, 0.2, 0.3])[:, None, None, None]
    views = build_views(rainy, clean, rainy, clean, None, 1, torch.Generator().manual_seed(0))
    torch.testing.assert_close(views.negatives[0, 0], (clean[0] + 0.3).clamp(0, 1))
    torch.testing.assert_close(views.negatives[2, 0], (clean[2] + 0.1).clamp(0, 1))


def _views(per_image: bool, seed: int):
    b, n_neg = 6, 4
    clean_full = torch.rand(b, 3, 16, 16)
    rainy_full = torch.rand(b, 3, 16, 16)
    views = build_views(rainy_full, clean_full, rainy_full, clean_full, None, n_neg, torch.Generator().manual_seed(seed), per_image)
    flips = []
    for q, k in zip(views.query, views.key):
        flips.append(next(i for i, v in enumerate((q, q.flip(-1), q.flip(-2), q.flip(-1).flip(-2))) if torch.equal(k, v)))
    return views, flips


def test_blur_and_flips_are_drawn_once_per_batch_by_default() -> None:
    for seed in range(4):
        views, flips = _views(False, seed)
        details = views.negatives[:, 1:]
        assert len(set(flips)) == 1
        for i in range(details.shape[0]):
            for k in range(1, details.shape[1]):
                assert torch.equal(details[i, k], details[i, 0]), "official detail negatives are copies of one"


def test_per_image_views_option_draws_per_image() -> None:
    views, flips = _views(True, 0)
    assert len(set(flips)) > 1
    assert not torch.equal(views.negatives[0, 1], views.negatives[0, 2])


def _grad_norms(trainer: Trainer, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    norms: list[float] = []
    opt = trainer.optimizers["base"]
    original = opt.step

    def step(*args, **kwargs):
        grads = [p.grad for g in opt.param_groups for p in g["params"] if p.grad is not None]
        norms.append(float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))))
        return original(*args, **kwargs)

    monkeypatch.setattr(opt, "step", step)
    return norms


@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_dgunet_guard_fires_on_a_large_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scale: float) -> None:
    trainer = _trainer(tmp_path, "dgunet", iters=2, stage1_iters=0, crop=16)
    assert trainer.cfg.explode_guard == 10.0
    original = trainer._outputs
    monkeypatch.setattr(trainer, "_outputs", lambda rainy, z: [o * scale for o in original(rainy, z)])
    norms = _grad_norms(trainer, monkeypatch)
    trainer.fit()
    assert len(norms) == 2
    assert norms[0] > 1e-6, "stage 1 is never guarded"
    if scale > 1:
        assert norms[1] <= 1.01e-8
    else:
        assert norms[1] > 1e-6


def test_brn_milestones_start_one_epoch_late() -> None:
    # train_BRN.py: MultiStepLR([30, 50, 80]).step(epoch) after each epoch of ceil(28,900 / 12) batches.
    per_epoch = -(-28_900 // 12)
    expected = tuple(round((m + 1) * per_epoch / 260_000, 4) for m in (30, 50, 80))
    assert paper_recipe("brn").milestones == expected == (0.2872, 0.4725, 0.7505)


def test_momentum_setting_reaches_the_key_encoder(tmp_path: Path) -> None:
    trainer = _trainer(tmp_path, iters=2, stage1_iters=0, momentum=0.5)
    key = trainer.model.key_encoder
    assert key.momentum == 0.5
    before_key = {k: v.clone() for k, v in key.encoder.named_parameters()}
    before_query = {k: v.clone() for k, v in trainer.model.encoder.named_parameters()}
    trainer.fit(stop_after=1)
    trainer.model.encoder.conv1.weight.data.add_(1.0)  # make the query differ from the key
    trainer.fit()  # stage 2: key = 0.5 key + 0.5 query, before the query's own update
    expected = 0.5 * before_key["conv1.weight"] + 0.5 * (before_query["conv1.weight"] + 1.0)
    torch.testing.assert_close(key.encoder.conv1.weight, expected)


def test_stage_two_starts_after_step_stage1_iters(tmp_path: Path) -> None:
    trainer = _trainer(tmp_path, iters=4, stage1_iters=2, log_every=1)
    trainer.fit()
    assert [row["stage"] for row in trainer.log.history] == [1.0, 1.0, 1.0, 2.0]


def test_encoder_resize_reproduces_torchvision_resize() -> None:
    transforms = pytest.importorskip("torchvision.transforms")
    model = zoo.create_model("brn", coic=True, config="tiny", encoder={"size": 128})
    x = torch.rand(1, 3, 150, 211)
    official = transforms.Resize((128, 128))(x)  # test_model.py's tran_transform on the current torchvision
    assert model.encoder_resize == "antialias"
    assert float((model.encoder_input(x) - official).abs().max()) < 1e-6
    plain = zoo.create_model("brn", coic=True, encoder={"size": 128, "resize": "plain"})
    legacy = transforms.Resize((128, 128), antialias=False)(x)  # torchvision < 0.17 on tensors
    assert float((plain.encoder_input(x) - legacy).abs().max()) < 1e-6
    assert float((plain.encoder_input(x) - official).abs().max()) > 1e-3
    with pytest.raises(zoo.ZooError, match="resize"):
        zoo.create_model("brn", coic=True, encoder={"resize": "bicubic"})


def test_official_evaluation_tiling() -> None:
    assert official_tiling(zoo.create_model("idt")) == (128, 0)
    for name in ("brn", "rcdnet", "dgunet", "drsformer"):
        assert official_tiling(zoo.create_model(name, coic=True)) == (512, 0)
    weight = _centre_weight(8, 6, torch.zeros(()))
    assert tuple(int(i) for i in torch.nonzero(weight == weight.max())[0]) == (4, 3)  # centre n/2
    torch.testing.assert_close(weight[4, 3], torch.tensor(1.0 / 1e-3**0.5))


def test_evaluate_set_uses_the_official_tile(monkeypatch: pytest.MonkeyPatch) -> None:
    import zoo.evaluation.evaluate as evaluate_module

    seen: list[tuple] = []
    original = evaluate_module.restore
    monkeypatch.setattr(evaluate_module, "restore", lambda m, x, t, o: seen.append((t, o)) or original(m, x, t, o))
    model = zoo.create_model("idt").eval()
    pairs = [((torch.rand(136, 140, 3) * 255).byte().numpy(), (torch.rand(136, 140, 3) * 255).byte().numpy())]
    result = evaluate_set(model, pairs)
    assert seen == [(128, 0)] and result["tiled"] and (result["tile"], result["overlap"]) == (128, 0)
    assert not evaluate_set(model, pairs, tile=None)["tiled"]


def test_plain_interpolation_is_not_antialiased() -> None:
    model = zoo.create_model("brn", coic=True, encoder={"size": 16, "resize": "plain"})
    x = torch.rand(1, 3, 64, 64)
    expected = F.interpolate(x, size=(16, 16), mode="bilinear", align_corners=False, antialias=False)
    torch.testing.assert_close(model.encoder_input(x), expected)
