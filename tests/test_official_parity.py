"""Parity with the official CoIC classes, kept by committed fixtures (see tools/official_parity_fixtures.py).

Each fixture is a random-init state dict of an official class at reduced width, in the official key
layout, with an input, a z and the official outputs (plain `mode='normal'` and modulated
`mode='tran'`), in float32 and, from the same weights, in float64. The test converts the state dict
with `zoo convert`'s code and compares our outputs. The encoder fixture is an official `MoCo` state
dict; the converted model must reproduce `encoder_k`'s z on the input resized as `test_model.py`
resizes it.

The parity tests run in float64: a float32 reference holds only on the kernel path that made it
(oneDNN/MKL ISA, thread count), and RCDNet's modulated output, reaching 39, amplifies float32
rounding to 1.7e-4 between two CPUs. One test keeps the float32 path, with a tolerance measured
across kernel paths (see FLOAT32_TOLERANCE).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import zoo
from zoo.models.convert import convert_official

FIXTURES = Path(__file__).parent / "fixtures" / "official"
TOLERANCE = 1e-10
RELATIVE_TOLERANCE = 1e-9
"""float64 outputs compare elementwise to TOLERANCE + RELATIVE_TOLERANCE * |official|. Measured (2 cores,
AVX2 CPU; default, ONEDNN_MAX_CPU_ISA=AVX2/AVX/SSE41, OMP_NUM_THREADS=1/2, MKL_CBWR=COMPATIBLE/AVX2,
ATEN_CPU_CAPABILITY=default): plain outputs 0 to 6.7e-16, modulated 2.2e-16 to 5.6e-16 except RCDNet's
(values up to 39) at 6e-14 to 4.4e-13, and the encoder's z 1.1e-16. The bound is 200 times the largest
of these, yet scaling one bias by 1 + 1e-6 already moves the outputs by 3e-9 (RCDNet's tau) to 6e-9
(BRN's first bias); a wrong layer misses by 1e-3 or more."""
FLOAT32_TOLERANCE = 2e-5
"""float32 outputs compare to FLOAT32_TOLERANCE * max(1, max |official|), a bound relative to the
output's magnitude, not to each element: rounding errors of a deep network scale with the size of
the values it carried, so a near-zero element of RCDNet's modulated output (peak 39) is off by as
much as its largest one. Measured max |ours - official| / max(1, peak) over the paths listed for
TOLERANCE: RCDNet modulated 4.2e-6 to 4.8e-6 (1.6e-4 to 1.9e-4 absolute) by default and under
ONEDNN_MAX_CPU_ISA=AVX2/AVX/SSE41, OMP_NUM_THREADS=1 and ATEN_CPU_CAPABILITY=default, 6.9e-6 (2.7e-4)
under MKL_CBWR=COMPATIBLE or AVX2; every other output 3.3e-7 or less. The stored official float32
outputs, made on another CPU, are off the float64 ones by 3.1e-6 of the peak and ours by up to 4.9e-6,
so two paths can differ by about 1e-5; the bound is twice that."""


def _assert_matches(ours: torch.Tensor, official: torch.Tensor) -> None:
    assert ours.dtype == official.dtype == torch.float64
    torch.testing.assert_close(ours, official, atol=TOLERANCE, rtol=RELATIVE_TOLERANCE)


def _assert_matches_float32(ours: torch.Tensor, official: torch.Tensor) -> None:
    assert ours.dtype == official.dtype == torch.float32
    bound = FLOAT32_TOLERANCE * max(1.0, float(official.abs().max()))
    difference = float((ours - official).abs().max())
    assert difference <= bound, f"float32 outputs differ by {difference:.3g}, more than {bound:.3g}"


def _fixture(name: str) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], dict]:
    tensors = load_file(str(FIXTURES / f"{name}.safetensors"))
    meta = json.loads((FIXTURES / f"{name}.json").read_text())
    state = {k: v for k, v in tensors.items() if not k.startswith("__")}
    extra = {k: v.float() if v.dtype == torch.float16 else v for k, v in tensors.items() if k.startswith("__")}
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
    # Without the official encoder the tests pass z themselves, so they may load the folder's untrained one.
    return zoo.create_model(f"local-dir:{tmp_path / 'out'}", allow_random_encoder=encoder is None).eval()


def _outputs(model: torch.nn.Module, x: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(plain, modulated) outputs of a converted CoIC model, as the official `mode='normal'` / `'tran'`."""
    with torch.no_grad():
        model.modulation = True
        tran = model(x, z=z)
        model.modulation = False
        plain = model(x)
    model.modulation = True
    return plain, tran


def _encoder_model(enc_state: dict[str, torch.Tensor], meta: dict) -> zoo.CoICModel:
    """A BRN CoIC model carrying the fixture's official MoCo encoder (query and key)."""
    from zoo.models.convert.encoder import split_moco_state

    model = zoo.create_model("brn", coic=True, encoder=meta["ours"]).eval()
    parts = split_moco_state(enc_state, "fixture")
    model.key_encoder.encoder.load_state_dict(parts["key_encoder"])
    model.encoder.load_state_dict(parts["encoder"])
    return model


@pytest.mark.parametrize("backbone", ["brn", "rcdnet", "dgunet", "idt", "drsformer"])
def test_converted_official_class_matches_its_outputs(backbone: str, tmp_path: Path) -> None:
    """float64, against the official class run in float64 on the same weights."""
    state, extra, meta = _fixture(backbone)
    model = _converted(tmp_path, backbone, state, meta).double()
    plain, tran = _outputs(model, extra["__input__"].double(), extra["__z__"].double())
    _assert_matches(plain, extra["__out_normal_f64__"])
    _assert_matches(tran, extra["__out_tran_f64__"])
    assert float((extra["__out_tran_f64__"] - extra["__out_normal_f64__"]).abs().max()) > 1e-3  # z matters


@pytest.mark.parametrize("name", ["brn", "rcdnet", "dgunet", "idt", "drsformer", "encoder"])
def test_float32_path_matches_the_official_float32_outputs(name: str, tmp_path: Path) -> None:
    """The float32 path, which users run, against the official class's float32 outputs (another CPU's)."""
    state, extra, meta = _fixture(name)
    if name == "encoder":
        model = _encoder_model(state, meta)
        with torch.no_grad():
            _assert_matches_float32(model.key_encoder(extra["__resized__"])[0], extra["__z__"])
            _assert_matches_float32(model.embed(extra["__input__"]), extra["__z__"])
        return
    plain, tran = _outputs(_converted(tmp_path, name, state, meta), extra["__input__"], extra["__z__"])
    _assert_matches_float32(plain, extra["__out_normal__"])
    _assert_matches_float32(tran, extra["__out_tran__"])


def test_converted_official_encoder_gives_encoder_k_z() -> None:
    """float64: encoder_k's z on the official resize, and on ours (our resize == torchvision's Resize)."""
    enc_state, extra, meta = _fixture("encoder")
    model = _encoder_model(enc_state, meta).double()
    with torch.no_grad():
        z_from_resized = model.key_encoder(extra["__resized_f64__"])[0]
        z = model.embed(extra["__input__"].double())
    _assert_matches(z_from_resized, extra["__z_f64__"])
    _assert_matches(z, extra["__z_f64__"])


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
    loaded = zoo.create_model(f"local-dir:{tmp_path / 'out'}").double()
    with torch.no_grad():
        _assert_matches(loaded(extra["__input__"].double()), extra["__out_normal_f64__"])


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
