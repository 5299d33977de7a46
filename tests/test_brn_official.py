"""Official CoIC BRN checkpoints: conversion, parity with the official outputs, and bad checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

import zoo
from zoo.errors import CheckpointError, UnknownNameError
from zoo.models.convert import convert_official

FLOAT64_TOLERANCE = 3e-6
"""Ours in float64 against the stored float32 reference: what remains is the reference's own float32
rounding, which is frozen in the file and so the same on every CPU (measured 8.7e-7 baseline, 1.49e-6
CoIC; the checkpoint README measured up to 1.5e-6 against a float64 re-run). The bound is twice that."""
FLOAT32_TOLERANCE = 1e-5
"""Ours in float32 against the same reference: two float32 kernel paths. Measured (1 thread;
default, ONEDNN_MAX_CPU_ISA=AVX2/AVX/SSE41, MKL_CBWR=COMPATIBLE, ATEN_CPU_CAPABILITY=default, 2 threads)
max |ours - reference| 8.9e-7 to 1.73e-6, and ours off our float64 by up to 2.2e-6, so two paths
can differ by 2.2e-6 + 1.5e-6; the bound is nearly three times that. The old bound, 1e-6 + 1e-6 |v|,
held only on the kernel path that made the reference (1.73e-6 here on the baseline)."""


@pytest.mark.parametrize("kind", ["baseline", "coic"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_converted_official_checkpoint_reproduces_reference(kind: str, dtype: torch.dtype, official_dir: Path, tmp_path: Path) -> None:
    ref = load_file(str(official_dir / "reference.safetensors"))
    _, summary = convert_official(official_dir / f"brn_{kind}.pth", "brn", tmp_path / kind)
    assert summary["kind"] == kind
    if kind == "coic":  # converted without the official encoder: refused unless the caller knows (z is passed below)
        with pytest.raises(CheckpointError, match=r"encoder.safetensors: missing; .*--allow-random-encoder"):
            zoo.create_model(f"local-dir:{tmp_path / kind}")
    with _no_warning():
        model = zoo.create_model(f"local-dir:{tmp_path / kind}", allow_random_encoder=kind == "coic").to(dtype)
    assert model.backbone.iterations == 8 if kind == "coic" else model.iterations == 8
    tolerance = FLOAT64_TOLERANCE if dtype == torch.float64 else FLOAT32_TOLERANCE
    for i in range(3):
        x, z = ref[f"input_{i}"].to(dtype), ref[f"z_{i}"].to(dtype)
        with torch.no_grad():
            out = model(x, z=z) if kind == "coic" else model(x)
        torch.testing.assert_close(out, ref[f"{kind}_raw_{i}"].to(dtype), atol=tolerance, rtol=0)
        torch.testing.assert_close(out.clamp(0, 1), ref[f"{kind}_out_{i}"].to(dtype), atol=tolerance, rtol=0)


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
