"""Tiled inference, evaluation on real layouts, and `zoo train/evaluate` on datasets read from disk."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import zoo
from tests.cli_runner import run_cli
from zoo.data.synth import SynthDomain, write_synth
from zoo.evaluation.evaluate import evaluate_set
from zoo.evaluation.inference import restore
from zoo.evaluation.metrics import score

# Tiles of 64 px with 16 px overlap on a 3-iteration tiny BRN: seams cost well under 0.5 dB.
TILE_TOLERANCE_DB = 0.5


def _trained_like(name: str = "brn") -> torch.nn.Module:
    torch.manual_seed(0)
    return zoo.create_model(name, coic=True).eval()


def test_tiled_and_whole_image_psnr_agree() -> None:
    model = _trained_like()
    rainy, clean = SynthDomain("light", 1, split="test", size=160)[0]
    x = torch.from_numpy(rainy).permute(2, 0, 1)[None].float() / 255
    whole = score(restore(model, x), clean)["psnr"]
    tiled = score(restore(model, x, tile=64, overlap=16), clean)["psnr"]
    assert abs(whole - tiled) < TILE_TOLERANCE_DB, (whole, tiled)


def test_tiles_share_one_embedding_of_the_whole_image(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _trained_like()
    seen: list[torch.Tensor] = []
    original = model.embed
    monkeypatch.setattr(model, "embed", lambda x: seen.append(x) or original(x))
    restore(model, torch.rand(1, 3, 150, 170), tile=64, overlap=8)
    assert len(seen) == 1 and seen[0].shape[-2:] == (150, 170)


def test_bad_overlap_is_refused() -> None:
    with pytest.raises(zoo.ZooError, match="--overlap 64 must be"):
        restore(_trained_like(), torch.rand(1, 3, 100, 100), tile=64, overlap=64)


def test_evaluate_set_reports_input_and_output_metrics() -> None:
    result = evaluate_set(_trained_like(), SynthDomain("heavy", 3, split="test", size=48), batch=2)
    assert result["n_images"] == 3 and result["protocol"] == "y-matlab"
    assert 8 < result["input_psnr"] < 25
    assert len(result["per_image"]) == 3


def test_train_and_evaluate_on_real_layouts_from_the_cli(tmp_path: Path, monkeypatch, capsys) -> None:
    root = tmp_path / "datasets"
    for name, domain in (("Rain200L", "light"), ("Rain200H", "heavy")):
        for split in ("train", "test"):
            write_synth(root / name, domains=(domain,), per_domain=2, size=32, split=split)
    run = tmp_path / "run"
    args = ["train", "brn", "--data", "rain200l,rain200h", "--root", str(root), "--allow-partial", "--iters", "2",
            "--stage1-iters", "1", "--batch", "2", "--crop", "16", "--out", str(run), "--no-progress"]
    code, out, err = run_cli(args, monkeypatch, capsys)
    assert code == 0, err
    assert "rain200l" in out and "rain200h" in out and "y-matlab" in out
    code, out, err = run_cli(["evaluate", str(run), "--data", "paired", "--root", str(root / "Rain200H")], monkeypatch, capsys)
    assert code == 0, err
    assert "paired" in out


def test_missing_dataset_folder_is_named(tmp_path: Path) -> None:
    from zoo.data.mixing import training_sources

    (tmp_path / "Rain200L").mkdir()
    with pytest.raises(zoo.ZooError, match="no folder for 'ddn' found \\(found: rain200l\\)"):
        training_sources("ddn", tmp_path)
