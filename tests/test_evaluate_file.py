"""`zoo evaluate FILE.pth --data ...`: any checkpoint `zoo convert` accepts, evaluated without a manual convert step.

Two files made here: a spandrel NAFNet state dict (detected by spandrel) and a paper-size BRN in the
official CoIC key layout (`--backbone brn`). Each must score exactly as the model it holds does under
`evaluate_set`, on a tiny synthetic test set written with `zoo data synth`.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
import torch

import zoo
from tests.cli_runner import run_cli
from tests.test_external_backbones import _published_like
from zoo.data.layouts import open_dataset
from zoo.evaluation.evaluate import evaluate_set
from zoo.evaluation.evaluate_file import evaluate_checkpoint
from zoo.evaluation.inference import OFFICIAL_TILE
from zoo.models.convert.brn import rename_brn


@pytest.fixture
def synth(tmp_path: Path, monkeypatch, capsys) -> Path:
    code, _, err = run_cli(["data", "synth", str(tmp_path / "syn"), "--per-set", "1", "--size", "48", "--domains", "light,heavy"],
                           monkeypatch, capsys)
    assert code == 0, err
    return tmp_path / "syn"


def official_brn_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Our BRN's weights under the official baseline's plain-Sequential keys (`conv0.0.weight`, `res_conv1.2.bias`)."""
    out = {}
    for key, tensor in model.state_dict().items():
        branch, *rest = key.split(".")
        tail = "_r" if branch == "rain" else ""
        if rest[0] == "blocks":
            official = f"res_conv{int(rest[1]) + 1}{tail}.{'0' if rest[2] == 'conv1' else '2'}.{rest[3]}"
        else:
            official = f"{rest[-2]}{tail}.0.{rest[-1]}"
        assert rename_brn(official) == key  # the converter maps it back to where it came from
        out[official] = tensor.clone()
    return out


def table_cells(out: str, dataset: str) -> list[str]:
    line = next(line for line in out.splitlines() if re.match(rf"│ {dataset}\s", line))
    return [cell.strip() for cell in line.split("│")[1:-1]]


def test_evaluate_a_spandrel_checkpoint_file(synth: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    model = _published_like("nafnet", tmp_path / "nafnet.pth")  # spandrel's own NAFNet, the weights in the file
    workspace = tmp_path / "tmp"
    workspace.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(workspace))
    code, out, err = run_cli(["evaluate", str(tmp_path / "nafnet.pth"), "--data", "paired", "--root", str(synth), "--device", "cpu"],
                             monkeypatch, capsys)
    assert code == 0, err
    assert "nafnet.pth: nafnet, read by spandrel" in out and "protocol: y-matlab" in out
    pairs = open_dataset("paired", synth, "test")
    want = evaluate_set(model, pairs, tile=OFFICIAL_TILE)
    cells = table_cells(out, "paired")
    assert cells[1] == "2" and cells[3] == f"{want['psnr']:.2f}" and cells[5] == f"{want['ssim']:.4f}"
    got = evaluate_checkpoint(tmp_path / "nafnet.pth", "paired", synth, device="cpu")["datasets"]["paired"]
    assert got["psnr"] == pytest.approx(want["psnr"], abs=1e-9) and got["ssim"] == pytest.approx(want["ssim"], abs=1e-12)
    assert not any(workspace.iterdir()), "the temporary model folder must be removed"


def test_evaluate_an_official_coic_checkpoint_file(synth: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    torch.manual_seed(3)
    model = zoo.create_model("brn", config="paper").eval()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(0.5)
    torch.save(official_brn_state(model), tmp_path / "brn_model.pth")
    args = ["evaluate", str(tmp_path / "brn_model.pth"), "--backbone", "brn", "--data", "paired", "--root", str(synth), "--protocol", "rgb"]
    code, out, err = run_cli(args, monkeypatch, capsys)
    assert code == 0, err
    assert "official brn (baseline), 375,526 parameters" in out and "protocol: rgb" in out
    want = evaluate_set(model, open_dataset("paired", synth, "test"), "rgb", tile=OFFICIAL_TILE)
    assert table_cells(out, "paired")[3] == f"{want['psnr']:.2f}"
    got = evaluate_checkpoint(tmp_path / "brn_model.pth", "paired", synth, "rgb", backbone="brn", device="cpu")
    assert got["datasets"]["paired"]["psnr"] == pytest.approx(want["psnr"], abs=1e-9)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["FILE"], "a checkpoint file has no training data to default to; pass --data"),
        (["RUN", "--backbone", "brn"], "--backbone, --encoder, --baseline and --protocol are for checkpoint files"),
        (["FILE", "--data", "synthmix", "--encoder", "enc.pth"], "--encoder and --baseline are for official CoIC checkpoints"),
    ],
)
def test_evaluate_file_mistakes_are_one_line(args: list[str], expected: str, tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "model.pth").write_bytes(b"")
    (tmp_path / "run").mkdir()
    paths = {"FILE": str(tmp_path / "model.pth"), "RUN": str(tmp_path / "run")}
    code, out, err = run_cli(["evaluate", *[paths.get(a, a) for a in args]], monkeypatch, capsys)
    assert code == 2 and expected in err and "Traceback" not in out + err
    assert len(err.strip().splitlines()) == 1
