"""Every registered backbone, plain and with CoIC, held to the same contract (new ones are covered for free)."""

from __future__ import annotations

import pytest
import torch

import zoo
from zoo.coic import CoICModel, ModulatedContextPoint, modulated_layers
from zoo.errors import ZooError
from zoo.evaluation.inference import restore

MODELS = zoo.list_models()


def _pair(name: str) -> tuple[torch.nn.Module, CoICModel]:
    torch.manual_seed(0)
    plain = zoo.create_model(name).eval()
    coic = zoo.create_model(name, coic=True).eval()
    missing, unexpected = coic.backbone.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and all(".modulator." in k or ".embed." in k for k in missing)
    return plain, coic


@pytest.mark.parametrize("name", MODELS)
def test_odd_size_gives_same_size(name: str) -> None:
    _, coic = _pair(name)
    x = torch.rand(1, 3, 37, 53)
    with torch.no_grad():
        assert coic(x).shape == x.shape
        coic.modulation = False
        assert coic(x).shape == x.shape


@pytest.mark.parametrize("name", MODELS)
def test_modulation_off_equals_plain_and_on_differs(name: str) -> None:
    plain, coic = _pair(name)
    x = torch.rand(2, 3, 32, 40)
    z = torch.nn.functional.normalize(torch.randn(2, coic.dim_z), dim=-1)
    with torch.no_grad():
        expected = plain(x)
        coic.modulation = False
        assert torch.equal(coic(x), expected)
        coic.modulation = True
        assert (coic(x, z=z) - expected).abs().max() > 1e-6


@pytest.mark.parametrize("name", MODELS)
def test_gradients_reach_encoder_modulation_and_context_points(name: str) -> None:
    _, coic = _pair(name)
    coic.train()
    if zoo.model_info(name).source == "spandrel":
        # Some published designs zero-initialise residual scales (NAFNet's beta and gamma), so the
        # branch before them gets no gradient at step 0; one SGD step opens them.
        coic(torch.rand(2, 3, 32, 32)).square().mean().backward()
        torch.optim.SGD(coic.parameters(), lr=0.1).step()
        coic.zero_grad(set_to_none=True)
    coic(torch.rand(2, 3, 32, 32)).square().mean().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in coic.encoder.parameters())
    layers = list(modulated_layers(coic.backbone))
    assert layers, f"{name}: coicify modulated nothing"
    for layer_name, layer in layers:
        # The last Linear always gets a gradient; earlier ones can sit behind a dead ReLU at init.
        last = layer.embed[-1] if isinstance(layer, ModulatedContextPoint) else layer.modulator[-1]
        assert last.weight.grad is not None and last.weight.grad.abs().sum() > 0, f"{name}: {layer_name}"


@pytest.mark.parametrize("name", MODELS)
def test_paper_config_matches_the_official_parameter_count(name: str) -> None:
    spec = zoo.model_info(name)
    assert spec.paper_params is not None, f"{name}: record the official parameter count in its catalog entry"
    assert spec.count_params("paper") == spec.paper_params


@pytest.mark.parametrize("name", MODELS)
def test_recorded_parameter_counts_match_a_real_build(name: str) -> None:
    # `zoo models` shows the counts recorded in the cards without building anything; they must be true.
    spec = zoo.model_info(name)
    assert set(spec.params) == set(spec.configs), f"{name}: record params for every config in its card"
    for config in spec.configs:
        assert spec.params[config] == spec.count_params(config), f"{name} {config}"


def test_too_small_input_names_the_minimum_size() -> None:
    model = zoo.create_model("dgunet").eval()
    with pytest.raises(ZooError, match="at least 9x9") as info:
        restore(model, torch.rand(1, 3, 5, 7))
    assert "\n" not in str(info.value)


def test_idt_trains_after_inference_in_the_same_process() -> None:
    """IDT caches its relative-position index; a first use under inference mode must not poison training."""
    from zoo.backbones.idt import _relative_index

    _relative_index.cache_clear()
    model = zoo.create_model("idt", config="tiny")
    x = torch.rand(1, 3, 64, 64)
    with torch.inference_mode():
        model.eval()(x)
    model.train()(x).mean().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
