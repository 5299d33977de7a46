"""Registry, create_model and CoICModel behaviour on BRN (the other backbones: test_backbones.py)."""

from __future__ import annotations

import copy

import pytest
import torch

import zoo
from zoo.coic import CoICModel, modulated_layers
from zoo.errors import UnknownNameError, ZooError


def test_list_models_with_wildcards() -> None:
    assert "brn" in zoo.list_models()
    assert zoo.list_models("br*") == ["brn"]
    assert zoo.list_models("nothing*") == []


def test_unknown_name_suggests_closest() -> None:
    with pytest.raises(UnknownNameError, match="did you mean brn"):
        zoo.create_model("bnr")


def test_wrong_config_lists_configs() -> None:
    with pytest.raises(UnknownNameError, match="tiny, paper"):
        zoo.create_model("brn", config="huge")


def test_path_like_name_is_refused() -> None:
    with pytest.raises(ZooError, match="local-dir:"):
        zoo.create_model("runs/brn")


@pytest.mark.parametrize("coic", [False, True])
def test_odd_size_keeps_shape(coic: bool) -> None:
    model = zoo.create_model("brn", coic=coic)
    x = torch.rand(2, 3, 37, 53)
    assert model(x).shape == x.shape


def test_gradients_reach_encoder_and_every_modulation_mlp() -> None:
    model = zoo.create_model("brn", coic=True)
    assert isinstance(model, CoICModel)
    model(torch.rand(2, 3, 24, 24)).mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.encoder.parameters() if p.requires_grad)
    layers = list(modulated_layers(model.backbone))
    assert len(layers) == 2 * (1 + 4 + 1) + 2 * 2 + 1 * 2  # 2 branches x (conv0, 4 gates, conv) + 2+1 blocks of 2
    for name, layer in layers:
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in layer.modulator.parameters()), name
    assert all(p.grad is None for p in model.key_encoder.parameters())


def test_modulation_off_equals_plain_backbone_bit_for_bit() -> None:
    plain = zoo.create_model("brn")
    model = zoo.create_model("brn", coic=True)
    model.backbone.load_state_dict(plain.state_dict(), strict=False)
    model.modulation = False
    x = torch.rand(2, 3, 20, 28)
    assert torch.equal(model(x), plain(x))


def test_two_z_give_different_outputs_and_eval_uses_key_encoder() -> None:
    model = zoo.create_model("brn", coic=True).eval()
    x = torch.rand(2, 3, 20, 20)
    z1, z2 = torch.nn.functional.normalize(torch.randn(2, 2, model.dim_z), dim=-1)
    assert (model(x, z=z1) - model(x, z=z2)).abs().max() > 1e-5
    key_z, _ = model.key_encoder(model.encoder_input(x))
    torch.testing.assert_close(model.embed(x), key_z)
    with torch.no_grad():
        shifted = copy.deepcopy(model)
        for p in shifted.encoder.parameters():
            p.add_(1.0)
    torch.testing.assert_close(shifted.embed(x), key_z)


def test_momentum_update_moves_key_towards_query() -> None:
    model = zoo.create_model("brn", coic=True)
    key_before = [p.clone() for p in model.key_encoder.parameters()]
    with torch.no_grad():
        for p in model.encoder.parameters():
            p.add_(1.0)
    model.key_encoder.update(model.encoder)
    for before, after in zip(key_before, model.key_encoder.parameters()):
        torch.testing.assert_close(after, before + (1 - model.key_encoder.momentum))


def test_model_folder_round_trip(tmp_path) -> None:
    from zoo.models.checkpoint import save_model_dir

    model = zoo.create_model("brn", coic=True).eval()
    save_model_dir(model, tmp_path / "m")
    loaded = zoo.create_model(f"local-dir:{tmp_path / 'm'}")
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
