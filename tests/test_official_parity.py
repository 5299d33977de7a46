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
RELATIVE_TOLERANCE = 1e-6
"""Outputs compare elementwise to TOLERANCE + RELATIVE_TOLERANCE * |official| (about 8 float32 ulps on
top of the absolute bound), so large outputs such as RCDNet's (up to 39) get the rounding room
their magnitude needs, while a wrong layer still misses by 1e-3 or more."""


def _assert_matches(ours: torch.Tensor, official: torch.Tensor) -> None:
    torch.testing.assert_close(ours, official, atol=TOLERANCE, rtol=RELATIVE_TOLERANCE)


def _fixture(name: str) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], dict]:
    tensors = load_file(str(FIXTURES / f"{name}.safetensors"))
    meta = json.loads((FIXTURES / f"{name}.json").read_text())
    state = {k: v for k, v in tensors.items() if not k.startswith("__")}
    extra = {k: v.float() if v.is_floating_point() else v for k, v in tensors.items() if k.startswith("__")}
    if "packed" in meta:  # int8 x 2**exponent per tensor, exact in float32 (see tools/official_parity_fixtures.py)
        offset = 0
        for entry, exponent in zip(meta["packed"], extra.pop("__exponents__").tolist(), strict=True):
            key, _, dims = entry.partition(" ")
            shape = [int(d) for d in dims.split(",") if d]
            count = int(torch.tensor(shape).prod()) if shape else 1
            values = extra["__weights__"][offset : offset + count].float() * 2.0**exponent
            state[key] = values.reshape(shape)
            offset += count
        assert offset == extra.pop("__weights__").numel()
    return state, extra, meta


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


@pytest.mark.parametrize("backbone", ["brn", "rcdnet", "dgunet", "idt", "drsformer"])
def test_converted_official_class_matches_its_outputs(backbone: str, tmp_path: Path) -> None:
    state, extra, meta = _fixture(backbone)
    model = _converted(tmp_path, backbone, state, meta)
    x, z = extra["__input__"], extra["__z__"]
    with torch.no_grad():
        tran = model(x, z=z)
        model.modulation = False
        plain = model(x)
    # measured max abs difference (plain / modulated): BRN 0 / 1.2e-7, RCDNet 0 / 2.3e-5 (its modulated
    # outputs reach 39 in 0..1 units), DGUNet 1.2e-7 / 1.8e-7, IDT 1.2e-7 / 1.8e-7, DRSformer 1.2e-7 / 1.2e-7
    _assert_matches(plain, extra["__out_normal__"])
    _assert_matches(tran, extra["__out_tran__"])
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


def test_unused_official_tensors_are_dropped_and_shared_ones_mapped_once(tmp_path: Path) -> None:
    """DGUNet: 18 MLPs on kernel-1 convs are never called officially; its shared PReLU is listed twice."""
    state, _, meta = _fixture("dgunet")
    torch.save(state, tmp_path / "model.pth")
    _, summary = convert_official(tmp_path / "model.pth", "dgunet", tmp_path / "out", model_args=meta["ours"])
    unused = [k for k in state if "g2pa_wgen" in k and k.startswith(("sam12", "basic.sam23")) or ".identity.g2pa" in k]
    assert len(unused) == 18 * 6 and summary["tensors"] == len(state) - len(unused) - 1
    state["shallow_feat7.1.body.1.weight"] = state["shallow_feat1.1.body.1.weight"] + 1
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(zoo.ZooError, match="shared_act.weight differ"):
        convert_official(tmp_path / "bad.pth", "dgunet", tmp_path / "bad", model_args=meta["ours"])


@pytest.mark.parametrize("backbone", ["dgunet", "drsformer"])
def test_baseline_of_the_coic_class_converts_to_the_plain_network(backbone: str, tmp_path: Path) -> None:
    """A baseline trained with the official CoIC class carries unused MLPs; --baseline drops them."""
    state, extra, meta = _fixture(backbone)
    torch.save(state, tmp_path / "model.pth")
    model, summary = convert_official(tmp_path / "model.pth", backbone, tmp_path / "out", model_args=meta["ours"], baseline=True)
    assert summary["kind"] == "baseline" and not isinstance(model, zoo.CoICModel)
    loaded = zoo.create_model(f"local-dir:{tmp_path / 'out'}")
    with torch.no_grad():
        assert float((loaded(extra["__input__"]) - extra["__out_normal__"]).abs().max()) <= TOLERANCE


def test_checkpoint_of_another_backbone_is_refused(tmp_path: Path) -> None:
    state, _, meta = _fixture("idt")
    torch.save(state, tmp_path / "model.pth")
    for other in ("dgunet", "drsformer"):
        with pytest.raises(zoo.ZooError, match="are not .* keys"):
            convert_official(tmp_path / "model.pth", other, tmp_path / other)


def test_cli_convert_takes_baseline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`zoo convert --baseline` on a CoIC-class state dict: one line, a baseline folder (paper widths refuse the fixture)."""
    from tests.cli_runner import run_cli

    state, _, _ = _fixture("idt")
    torch.save(state, tmp_path / "model.pth")
    code, _, err = run_cli(["convert", str(tmp_path / "model.pth"), "-b", "idt", "-o", str(tmp_path / "out"), "--baseline"], monkeypatch, capsys)
    assert code == 2 and "does not fit this model" in err and "Traceback" not in err
