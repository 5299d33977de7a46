"""ONNX export: onnxruntime computes what PyTorch computes, through the library and through the CLI.

torch's exporter spends its time on symbolic shape reasoning over every graph node, so every test
exports one small model once and compares at two sizes: tiny BRN + CoIC with one recurrent iteration
instead of three (the iterations are the same code unrolled; the whole tiny model took 27-33 s of one
core against 14-15 s), tiny RCDNet + CoIC through `zoo export` and `zoo derain`, and tiny NAFNet from
spandrel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import zoo
from tests.cli_runner import run_cli
from zoo.errors import ZooError
from zoo.evaluation.inference import restore
from zoo.models.export import export_onnx
from zoo.models.onnx_session import OnnxModel

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")  # torch's exporter; part of the `export` extra with the two above

SIZES = [(48, 64), (72, 56)]
TOLERANCE = 1e-4


def _max_diff(model: torch.nn.Module, onnx_model: OnnxModel, size: tuple[int, int]) -> float:
    image = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(size[0]))
    with torch.no_grad():
        expected = model(image)
    return float((onnx_model(image) - expected).abs().max())


@pytest.mark.parametrize(
    ("name", "coic", "overrides"),
    [("brn", True, {"iterations": 1}), ("nafnet", False, {})],
    ids=["brn-coic", "nafnet"],
)
def test_onnxruntime_matches_torch_at_two_sizes(tmp_path: Path, name: str, coic: bool, overrides: dict) -> None:
    """One dynamic graph per model; the CoIC encoder (resize included) runs inside it."""
    model = zoo.create_model(name, coic=coic, **overrides).eval()
    result = export_onnx(model, tmp_path / f"{name}.onnx", label=name)
    assert result.size is None and max(result.checks.values()) < TOLERANCE
    onnx_model = OnnxModel(tmp_path / f"{name}.onnx", threads=1)
    assert onnx_model.fixed_size is None and onnx_model.model_name == name
    for size in SIZES:
        assert _max_diff(model, onnx_model, size) < TOLERANCE, size


def test_fixed_size_export_tiles_like_torch(tmp_path: Path) -> None:
    """With --size the graph takes that size only; restore() tiles a larger image as on the torch path."""
    model = zoo.create_model("rcdnet").eval()
    result = export_onnx(model, tmp_path / "fixed.onnx", size=(40, 40), label="rcdnet")
    assert result.size == (40, 40)
    onnx_model = OnnxModel(tmp_path / "fixed.onnx", threads=1)
    assert onnx_model.fixed_size == (40, 40) and onnx_model.fixed_tile == 40
    image = torch.rand(1, 3, 72, 56)
    got = restore(onnx_model, image, tile=40, overlap=8)
    expected = restore(model, image, tile=40, overlap=8)
    assert float((got - expected).abs().max()) < TOLERANCE
    with pytest.raises(ZooError, match="exported for 40x40 inputs, got 72x56"):
        onnx_model(image)


def _photos(folder: Path) -> list[Path]:
    from PIL import Image

    folder.mkdir()
    rng = np.random.default_rng(0)
    paths = []
    for index, (h, w) in enumerate(SIZES):
        paths.append(folder / f"rain{index}.png")
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(paths[-1])
    return paths


def test_cli_export_then_derain_with_onnxruntime(tmp_path: Path, monkeypatch, capsys) -> None:
    """`zoo export` then `zoo derain --engine onnxruntime` writes the torch path's PNGs, within 1/255."""
    from PIL import Image

    from zoo.models.checkpoint import save_model_dir

    model = zoo.create_model("rcdnet", coic=True).eval()
    save_model_dir(model, tmp_path / "model")
    onnx_file = tmp_path / "rcdnet.onnx"
    code, out, err = run_cli(["export", f"local-dir:{tmp_path / 'model'}", "--out", str(onnx_file)], monkeypatch, capsys)
    assert code == 0, err
    assert f"wrote {onnx_file}" in out and "any H, W >= 1" in out and "onnxruntime matches PyTorch" in out
    onnx_model = OnnxModel(onnx_file, threads=1)
    for size in SIZES:
        assert _max_diff(model, onnx_model, size) < TOLERANCE, size
    photos = _photos(tmp_path / "photos")
    code, _, err = run_cli(
        ["derain", f"local-dir:{tmp_path / 'model'}", *map(str, photos), "--out", str(tmp_path / "torch")],
        monkeypatch, capsys,
    )
    assert code == 0, err
    code, out, err = run_cli(
        ["derain", str(onnx_file), *map(str, photos), "--engine", "onnxruntime", "--out", str(tmp_path / "ort")],
        monkeypatch, capsys,
    )
    assert code == 0, err
    assert "restored 2 of 2 image(s)" in out
    for photo in photos:
        ort = np.asarray(Image.open(tmp_path / "ort" / f"{photo.stem}.png"), dtype=np.int16)
        torch_png = np.asarray(Image.open(tmp_path / "torch" / f"{photo.stem}.png"), dtype=np.int16)
        assert ort.shape == torch_png.shape and np.abs(ort - torch_png).max() <= 1, photo.name


def test_cli_export_bad_inputs(tmp_path: Path, monkeypatch, capsys) -> None:
    """Wrong input fails in one line and before any tracing."""
    (tmp_path / "file.txt").write_text("in the way")
    cases = [
        (["export", "brn", "--out", str(tmp_path / "file.txt" / "m.onnx")], "file.txt is a file"),
        (["export", "uformer", "--out", str(tmp_path / "u.onnx")], "uformer pads its input to a square, so it cannot be exported with a dynamic size; pass --size HxW"),
        (["export", "brn", "--out", str(tmp_path / "m.onnx"), "--size", "64"], "--size '64' is not HxW"),
        (["export", "brn", "--out", str(tmp_path / "m.onnx"), "--format", "tflite"], "--format tflite: unknown format"),
        (["export", "brn", "--coic", "--out", str(tmp_path / "m.onnx"), "--opset", "17"], "needs opset 18 or later"),
        (["derain", str(tmp_path / "no.onnx"), str(tmp_path / "file.txt"), "--engine", "onnxruntime"], "no.onnx: no such ONNX file"),
        (["derain", "x.onnx", str(tmp_path / "file.txt"), "--engine", "tensorrt"], "--engine tensorrt: unknown engine"),
    ]
    for args, expected in cases:
        code, _, err = run_cli(args, monkeypatch, capsys)
        assert code == 2 and expected in err and len(err.strip().splitlines()) == 1, (args, err)
    assert not (tmp_path / "m.onnx").exists() and not (tmp_path / "u.onnx").exists()
