"""Official CoIC BRN checkpoints: conversion, parity with the official outputs, and bad checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

import zoo
from zoo.errors import CheckpointError, UnknownNameError
from zoo.models.convert import convert_official


@pytest.mark.parametrize("kind", ["baseline", "coic"])
def test_converted_official_checkpoint_reproduces_reference(kind: str, official_dir: Path, tmp_path: Path) -> None:
    ref = load_file(str(official_dir / "reference.safetensors"))
    _, summary = convert_official(official_dir / f"brn_{kind}.pth", "brn", tmp_path / kind)
    assert summary["kind"] == kind
    with pytest.warns(UserWarning, match="encoder") if kind == "coic" else _no_warning():
        model = zoo.create_model(f"local-dir:{tmp_path / kind}")
    assert model.backbone.iterations == 8 if kind == "coic" else model.iterations == 8
    # Float rounding only: measured max |difference| 0 (baseline) and 1.1e-6 at a value of 0.59 (CoIC,
    # whose per-instance convolution sums in another order than the official one); 1e-6 + 1e-6 * |value|.
    for i in range(3):
        with torch.no_grad():
            out = model(ref[f"input_{i}"], z=ref[f"z_{i}"]) if kind == "coic" else model(ref[f"input_{i}"])
        torch.testing.assert_close(out, ref[f"{kind}_raw_{i}"], atol=1e-6, rtol=1e-6)
        torch.testing.assert_close(out.clamp(0, 1), ref[f"{kind}_out_{i}"], atol=1e-6, rtol=1e-6)


def test_official_parameter_counts(official_dir: Path, tmp_path: Path) -> None:
    baseline, _ = convert_official(official_dir / "brn_baseline.pth", "brn", tmp_path / "b")
    coic, _ = convert_official(official_dir / "brn_coic.pth", "brn", tmp_path / "c")
    assert sum(p.numel() for p in baseline.parameters()) == 375_526
    assert sum(p.numel() for p in coic.backbone.parameters()) == 580_749
    assert zoo.model_info("brn").count_params("paper") == 375_526


def test_wrong_backbone_checkpoint_is_refused(tmp_path: Path) -> None:
    torch.save({"encoder.conv1.weight": torch.zeros(3, 3)}, tmp_path / "other.pth")
    with pytest.raises(CheckpointError, match="not brn keys"):
        convert_official(tmp_path / "other.pth", "brn", tmp_path / "out")
    with pytest.raises(UnknownNameError, match="no official-checkpoint converter"):
        convert_official(tmp_path / "other.pth", "nosuchnet", tmp_path / "out")


def test_corrupt_and_pickled_checkpoints_are_refused(official_dir: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes((official_dir / "brn_coic.pth").read_bytes()[:4096])
    with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint"):
        convert_official(truncated, "brn", tmp_path / "out")
    torch.save({"payload": _Pickled()}, tmp_path / "code.pth")
    with pytest.raises(CheckpointError, match="pickled code"):
        convert_official(tmp_path / "code.pth", "brn", tmp_path / "out")


def test_model_folder_of_another_config_or_corrupt_file(tmp_path: Path) -> None:
    from zoo.models.checkpoint import save_model_dir

    save_model_dir(zoo.create_model("brn", config="tiny"), tmp_path / "tiny")
    paper = zoo.create_model("brn", config="paper")
    save_file({k: v.contiguous() for k, v in paper.state_dict().items()}, str(tmp_path / "tiny" / "model.safetensors"))
    with pytest.raises(CheckpointError, match="does not fit"):
        zoo.create_model(f"local-dir:{tmp_path / 'tiny'}")
    (tmp_path / "tiny" / "model.safetensors").write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointError, match="corrupt"):
        zoo.create_model(f"local-dir:{tmp_path / 'tiny'}")
    with pytest.raises(CheckpointError, match="no such model folder"):
        zoo.create_model(f"local-dir:{tmp_path / 'absent'}")


class _Pickled:
    def __reduce__(self) -> tuple:
        return (print, ("this must never run",))


class _no_warning:
    def __enter__(self) -> None:
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("error")

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(*exc)
