"""Parity with the official CoIC classes, kept by committed fixtures (see tools/official_parity_fixtures.py).

Each fixture is a random-init state dict of an official class at reduced width, in the official key
layout, with an input, a z and the official outputs (plain `mode='normal'` and modulated
`mode='tran'`). The test converts the state dict with `zoo convert`'s code and compares our outputs.
The encoder fixture is an official `MoCo` state dict; the converted model must reproduce
`encoder_k`'s z on the input resized as `test_model.py` resizes it.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import zoo
from zoo.models.convert import convert_official

FIXTURES = Path(__file__).parent / "fixtures" / "official"
TOLERANCE = 1e-5


def _fixture(name: str) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], dict]:
    tensors = load_file(str(FIXTURES / f"{name}.safetensors"))
    state = {k: v for k, v in tensors.items() if not k.startswith("__")}
    extra = {k: v for k, v in tensors.items() if k.startswith("__")}
    return state, extra, json.loads((FIXTURES / f"{name}.json").read_text())


def _converted(tmp_path: Path, backbone: str, state: dict, meta: dict, encoder_state: dict | None = None) -> torch.nn.Module:
    torch.save(state, tmp_path / "model.pth")
    encoder = None
    if encoder_state is not None:
        torch.save(encoder_state, tmp_path / "enc.pth")
        encoder = tmp_path / "enc.pth"
    convert_official(tmp_path / "model.pth", backbone, tmp_path / "out", encoder=encoder, model_args=meta["ours"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no encoder file: the folder says so
        return zoo.create_model(f"local-dir:{tmp_path / 'out'}").eval()


@pytest.mark.parametrize("backbone", ["brn", "rcdnet"])
def test_converted_official_class_matches_its_outputs(backbone: str, tmp_path: Path) -> None:
    state, extra, meta = _fixture(backbone)
    model = _converted(tmp_path, backbone, state, meta)
    x, z = extra["__input__"], extra["__z__"]
    with torch.no_grad():
        tran = model(x, z=z)
        model.modulation = False
        plain = model(x)
    # measured: BRN 0 / 8.9e-8, RCDNet 0 / 3.8e-6 (its modulated outputs reach 39 in 0..1 units)
    assert float((plain - extra["__out_normal__"]).abs().max()) <= TOLERANCE
    assert float((tran - extra["__out_tran__"]).abs().max()) <= TOLERANCE
    assert float((extra["__out_tran__"] - extra["__out_normal__"]).abs().max()) > 1e-3  # z matters


def test_converted_official_encoder_gives_encoder_k_z(tmp_path: Path) -> None:
    enc_state, extra, meta = _fixture("encoder")
    model = zoo.create_model("brn", coic=True, encoder=meta["ours"]).eval()
    from zoo.models.convert_encoder import split_moco_state

    parts = split_moco_state(enc_state, "fixture")
    model.key_encoder.encoder.load_state_dict(parts["key_encoder"])
    model.encoder.load_state_dict(parts["encoder"])
    with torch.no_grad():
        z = model.embed(extra["__input__"])
        z_from_resized = model.key_encoder(extra["__resized__"])[0]
    assert float((z_from_resized - extra["__z__"]).abs().max()) <= TOLERANCE
    assert float((z - extra["__z__"]).abs().max()) <= TOLERANCE  # our resize == torchvision's Resize


def test_model_folder_with_official_encoder_runs_the_official_test_path(tmp_path: Path) -> None:
    """BRN model + MoCo encoder -> a folder whose forward is encoder_k(resize(x)) -> z -> model(x, z, 'tran')."""
    state, extra, meta = _fixture("brn")
    enc_state, enc_extra, enc_meta = _fixture("encoder")
    model = _converted(tmp_path, "brn", state, meta, enc_state)
    assert model.encoder_size == 128 and model.encoder_resize == "antialias"
    model.encoder_size = enc_meta["ours"]["size"]  # the reduced fixture encoder was fed 32 x 32
    x = enc_extra["__input__"][:, :, :24, :28]
    with torch.no_grad():
        z_official = model.key_encoder(torch.nn.functional.interpolate(x, size=(32, 32), mode="bilinear", antialias=True))[0]
        expected = model(x, z=z_official)
        assert torch.equal(model(x), expected)
        from zoo.evaluation.inference import restore

        tiled = restore(model, enc_extra["__input__"], tile=24)
    assert tiled.shape == enc_extra["__input__"].shape and not torch.isnan(tiled).any()


def test_encoder_checkpoint_of_the_wrong_kind_is_refused(tmp_path: Path) -> None:
    state, _, meta = _fixture("brn")
    torch.save(state, tmp_path / "model.pth")
    torch.save({"conv1.weight": torch.zeros(1)}, tmp_path / "enc.pth")
    with pytest.raises(zoo.ZooError, match="not an official CoIC encoder"):
        convert_official(tmp_path / "model.pth", "brn", tmp_path / "out", encoder=tmp_path / "enc.pth", model_args=meta["ours"])
