"""A backbone is one architecture plus one card: a toy defined in this file alone trains, converts and evaluates.

The architecture (`ToyNet`), the official-checkpoint key map (`rename_toy`) and the card (`TOY`: configs,
size rule, paper recipe, converter by dotted path) live here and nowhere else. Registered, the toy goes
through what every backbone goes through: the recipe API reads its card, the trainer `zoo train` uses
trains it with CoIC, `zoo convert`'s converter maps a renamed state dict through the card's converter,
and the run's evaluation tiles with the card's official tile. The card is unregistered afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from torch import Tensor, nn

import zoo
from zoo.catalog import BackboneSpec, Converter, list_models, model_info, register_backbone, unregister_backbone
from zoo.catalog.recipes import SPA_PAPER, Recipe, paper_recipe, recipe, tiny_recipe
from zoo.errors import CheckpointError, UnknownNameError
from zoo.models.convert import convert_official
from zoo.models.pretrained import PretrainedCfg, list_pretrained, pretrained_cfg, register_pretrained
from zoo.training import TrainConfig, Trainer, evaluate_run
from zoo.training.runtime import Runtime


class ToyNet(nn.Module):
    """Two 3x3 convolutions around a ReLU, added to the input: the smallest net that derains and that coicify modulates."""

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        self.head = nn.Conv2d(3, width, 3, padding=1)
        self.tail = nn.Conv2d(width, 3, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.tail(torch.relu(self.head(x)))


def rename_toy(key: str) -> str | None:
    """The toy's 'official' keys (`conv_in.*`, `conv_out.*`) -> ours (`head.*`, `tail.*`); None for any other key."""
    official, _, rest = key.partition(".")
    ours = {"conv_in": "head", "conv_out": "tail"}.get(official)
    return None if ours is None else f"{ours}.{rest}"


TOY = BackboneSpec(
    name="toy",
    builder=ToyNet,
    family="cnn",
    paper="a test fixture",
    configs={"tiny": {"width": 4}, "paper": {"width": 8}},
    params={"tiny": 223, "paper": 443},
    test_tile=32,
    recipe=Recipe("l1", "adam", 1e-3, 4, 32, 100, 0.5, milestones=(0.5,), source="train_Toy.py"),
    converter=Converter(f"{__name__}:rename_toy"),
)


@pytest.fixture(scope="module")
def toy() -> Iterator[BackboneSpec]:
    register_backbone(TOY)
    yield TOY
    unregister_backbone(TOY.name)


def test_the_card_is_registered_with_its_counts_recipe_and_no_tags(toy: BackboneSpec) -> None:
    assert "toy" in list_models() and model_info("toy") is toy
    assert [toy.count_params(config) for config in ("tiny", "paper")] == [223, 443]
    assert paper_recipe("toy") is toy.recipe == recipe("toy", "paper", with_spa=True)  # no SPA changes on its card
    assert "toy" not in SPA_PAPER
    tiny = tiny_recipe("toy")
    assert (tiny.loss, tiny.lr, tiny.batch, tiny.crop, tiny.iters, tiny.source) == ("l1", 1e-3, 8, 64, 400, "train_Toy.py, scaled for CPU")
    assert list_pretrained("toy.*") == []
    demo = PretrainedCfg("toy", "demo", "coic-zoo/toy.demo", "baseline", "synthmix", "mit", files={})
    with pytest.raises(ValueError, match="card does not list tag 'demo'"):
        register_pretrained(demo)  # a backbone's tags are written on its card, nowhere else
    with pytest.raises(ValueError, match="registered twice"):
        register_backbone(toy)


def test_the_toy_trains_with_coic_and_its_run_evaluates_in_the_cards_tiles(toy: BackboneSpec, tmp_path: Path) -> None:
    cfg = TrainConfig(
        "toy", coic=True, iters=4, stage1_iters=2, batch=2, crop=32, synth_count=8, synth_size=48,
        ckpt_every=100, log_every=1, eval_count=1, eval_size=48,
    )
    trainer = Trainer(cfg, tmp_path / "run", runtime=Runtime(device="cpu", workers=0))
    try:
        trainer.fit()
    finally:
        trainer.close()
    assert trainer.cfg.loss == "l1" and trainer.cfg.milestones == (0.5,)  # the card's recipe, as resolved for the run
    metrics = evaluate_run(tmp_path / "run", device="cpu")
    assert metrics["datasets"]
    for result in metrics["datasets"].values():
        assert result["tile"] == toy.test_tile and result["tiled"]  # 48 px test images, restored in 32 px tiles
        assert torch.isfinite(torch.tensor(result["psnr"]))
    model = zoo.create_model(f"local-dir:{tmp_path / 'run'}")
    assert isinstance(model.backbone, ToyNet)


def test_a_renamed_state_dict_converts_through_the_cards_converter(toy: BackboneSpec, tmp_path: Path) -> None:
    official = ToyNet(**toy.config("paper"))
    state = {key.replace("head.", "conv_in.").replace("tail.", "conv_out."): value for key, value in official.state_dict().items()}
    torch.save(state, tmp_path / "toy_model.pth")
    model, summary = convert_official(tmp_path / "toy_model.pth", "toy", tmp_path / "converted")
    assert summary == {"kind": "baseline", "tensors": 4, "params": 443}
    loaded = zoo.create_model(f"local-dir:{tmp_path / 'converted'}")
    image = torch.rand(1, 3, 20, 24, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(loaded(image), official(image)) and torch.equal(model(image), official(image))
    torch.save({"other.weight": state["conv_in.weight"]}, tmp_path / "other.pth")
    with pytest.raises(CheckpointError, match="not toy keys"):
        convert_official(tmp_path / "other.pth", "toy", tmp_path / "other")


def test_unregistering_removes_the_backbone(toy: BackboneSpec, tmp_path: Path) -> None:
    assert unregister_backbone("toy") is toy
    try:
        assert "toy" not in list_models()
        with pytest.raises(UnknownNameError, match="no official-checkpoint converter for 'toy'"):
            convert_official(tmp_path / "toy_model.pth", "toy", tmp_path / "out")
        with pytest.raises(UnknownNameError):
            unregister_backbone("toy")
    finally:
        register_backbone(toy)  # the module fixture unregisters it at the end


def test_every_cards_tags_are_its_pretrained_entries() -> None:
    """The card lists a backbone's tags; the pretrained table holds exactly those (files, provenance)."""
    listed = sorted(f"{name}.{tag}" for name in list_models() for tag in model_info(name).pretrained)
    assert listed == list_pretrained()
    assert all(pretrained_cfg(name).backbone == name.partition(".")[0] for name in listed)
