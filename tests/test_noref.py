"""No-reference evaluation: NIQE, PIQE and entropy offline, `zoo evaluate --data noref`, the held-out
domain's extra rows, `zoo derain --score`, and one line naming the `iqa` extra when pyiqa is missing."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tests.cli_runner import run_cli
from zoo.data.images import read_rgb
from zoo.errors import UnknownNameError, ZooError
from zoo.evaluation.noref import NOREF_METRICS, NOREF_PROTOCOL, check_metrics
from zoo.training.config import TrainConfig
from zoo.training.trainer import Trainer

PHOTOS = Path(__file__).parent / "fixtures" / "noref"
HINT = r'pip install "coic-zoo\[iqa\]"'


@pytest.fixture
def no_pyiqa(monkeypatch: pytest.MonkeyPatch) -> None:
    """A core install: `import pyiqa` fails."""
    import zoo.evaluation.noref as noref

    monkeypatch.setitem(sys.modules, "pyiqa", None)
    noref._niqe_metric.cache_clear()
    noref._metric.cache_clear()
    yield
    noref._niqe_metric.cache_clear()
    noref._metric.cache_clear()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny baseline BRN run (2 steps), test images large enough for one NIQE block."""
    out = tmp_path_factory.mktemp("noref") / "run"
    cfg = TrainConfig("brn", coic=False, iters=2, batch=2, crop=32, synth_count=4, synth_size=48, ckpt_every=100,
                      eval_count=2, eval_size=96)
    Trainer(cfg, out).fit()
    return out


OFFLINE_SCRIPT = textwrap.dedent(
    """
    import json, socket, sys

    def refuse(*args, **kwargs):
        raise OSError("network access attempted during an offline no-reference test")

    socket.socket.connect = refuse
    socket.create_connection = refuse

    from zoo.data.images import read_rgb
    from zoo.evaluation.noref import niqe, noref_scores

    image = read_rgb(sys.argv[1])
    print(json.dumps({"scores": noref_scores(image), "niqe": niqe(image)}))
    """
)


def test_the_offline_metrics_need_no_network_and_no_cache(tmp_path: Path) -> None:
    """Sockets refused, empty TORCH_HOME and HF cache: all of NOREF_METRICS still score, nothing is written."""
    pytest.importorskip("pyiqa")
    torch_home = tmp_path / "torch_home"
    torch_home.mkdir()
    repo_root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TORCH_HOME=str(torch_home), HF_HOME=str(tmp_path / "hf"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo_root), os.environ.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", OFFLINE_SCRIPT, str(PHOTOS / "realike-0.png")], env=env,
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    values = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(values["scores"]) == set(NOREF_METRICS)
    assert all(math.isfinite(v) for v in values["scores"].values())
    assert values["scores"]["niqe"] == pytest.approx(values["niqe"], abs=1e-6)  # the packaged-prior NIQE
    assert 0 < values["scores"]["entropy"] <= 8 and 0 <= values["scores"]["piqe"] <= 100
    assert not any(torch_home.rglob("*")), "nothing may be downloaded or cached"


def test_scores_match_pyiqa_and_see_rain() -> None:
    """The wrapper is pyiqa's metric on the uint8 image; a rainy image scores worse than its clean one."""
    pyiqa = pytest.importorskip("pyiqa")
    import torch

    from zoo.data.synth import SynthDomain
    from zoo.evaluation.noref import noref_scores

    image = read_rgb(PHOTOS / "realike-1.png")
    unit = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    ours = noref_scores(image, ["piqe", "entropy"])
    for name in ("piqe", "entropy"):
        assert ours[name] == pytest.approx(pyiqa.create_metric(name, device="cpu")(unit).item(), rel=1e-6)
    rainy, clean = SynthDomain("heavy", 1, split="test", size=128)[0]
    assert noref_scores(rainy, ["niqe"])["niqe"] > noref_scores(clean, ["niqe"])["niqe"]


def test_metric_names_are_checked() -> None:
    assert check_metrics(["NIQE", "piqe", "niqe"]) == ("niqe", "piqe")
    with pytest.raises(UnknownNameError, match="unknown no-reference metric 'brisque'; offline ones: niqe, piqe, entropy"):
        check_metrics(["brisque"])


def test_without_pyiqa_each_path_says_what_to_install(no_pyiqa, run: Path, monkeypatch, capsys, tmp_path: Path) -> None:
    from zoo.evaluation.noref import noref_scores

    with pytest.raises(ZooError, match=HINT):
        noref_scores(read_rgb(PHOTOS / "realike-0.png"))
    code, _, err = run_cli(["evaluate", str(run), "--data", "noref", "--root", str(PHOTOS)], monkeypatch, capsys)
    assert code == 2 and "coic-zoo[iqa]" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(["derain", "hf-hub:none/none", str(PHOTOS), "--out", str(tmp_path / "out"),
                            "--score", "niqe"], monkeypatch, capsys)
    assert code == 2 and "coic-zoo[iqa]" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()  # refused before any model or output


def test_synthmix_without_pyiqa_still_evaluates_and_notes_it(no_pyiqa, run: Path, monkeypatch, capsys) -> None:
    from zoo.cli.train import print_table
    from zoo.training.evaluate_run import evaluate_run

    metrics = evaluate_run(run)
    assert {row["metric"] for row in metrics["rows"]} == {"psnr", "ssim", "input_psnr", "input_ssim"}
    assert any("coic-zoo[iqa]" in note for note in metrics["notes"])
    monkeypatch.setenv("COLUMNS", "200")
    print_table(run)
    assert "coic-zoo[iqa]" in capsys.readouterr().out  # printed as text, not eaten as rich markup


def test_evaluate_noref_folder_from_the_cli(run: Path, monkeypatch, capsys) -> None:
    pytest.importorskip("pyiqa")
    code, out, err = run_cli(["evaluate", str(run), "--data", "noref", "--root", str(PHOTOS)], monkeypatch, capsys)
    assert code == 0, err
    assert "noref" in out and "NIQE" in out and "PIQE" in out and NOREF_PROTOCOL in out
    (side,) = run.glob("metrics-noref-*.json")  # not the run's own metrics.json (issue 25)
    metrics = json.loads(side.read_text())
    rows = metrics["rows"]
    assert {r["metric"] for r in rows} == {*NOREF_METRICS, *(f"input_{m}" for m in NOREF_METRICS)}
    assert {r["eval_dataset"] for r in rows} == {"noref"} and {r["protocol"] for r in rows} == {NOREF_PROTOCOL}
    assert all(r["n_images"] == 2 for r in rows)
    niqe_row = next(r for r in rows if r["metric"] == "niqe")
    assert "niqe_pris_params" in niqe_row["implementation"] and "pyiqa 0." in niqe_row["implementation"]
    per_image = metrics["per_image"]["noref"]
    assert len(per_image) == 2 and np.mean([p["input_niqe"] for p in per_image]) == pytest.approx(
        next(r for r in rows if r["metric"] == "input_niqe")["value"])


def test_held_out_domain_gets_noref_rows(run: Path) -> None:
    pytest.importorskip("pyiqa")
    from zoo.training.evaluate_run import evaluate_run

    metrics = evaluate_run(run)
    rows = metrics["rows"]
    noref = [r for r in rows if r["protocol"] == NOREF_PROTOCOL]
    assert {r["eval_dataset"] for r in noref} == {"real-like"}
    assert {r["metric"] for r in noref} == {*NOREF_METRICS, *(f"input_{m}" for m in NOREF_METRICS)}
    assert all(r["implementation"] for r in noref) and not any(r["implementation"] for r in rows if r not in noref)
    assert {r["eval_dataset"] for r in rows if r["metric"] == "psnr"} >= {"light", "real-like"}
    assert "notes" not in metrics
    assert {"psnr", "niqe", "input_niqe"} <= set(metrics["per_image"]["real-like"][0])


def test_derain_prints_a_score_per_image(monkeypatch, capsys, tmp_path: Path, run: Path) -> None:
    pytest.importorskip("pyiqa")
    code, out, err = run_cli(["derain", f"local-dir:{run}", str(PHOTOS), "--out", str(tmp_path / "out"),
                              "--score", "niqe", "--score", "entropy"], monkeypatch, capsys)
    assert code == 0, err
    lines = [line for line in out.splitlines() if "NIQE" in line]
    assert len(lines) == 2 and all("(input " in line and "entropy" in line for line in lines)
    assert "realike-0.png: NIQE " in lines[0]
    assert len(list((tmp_path / "out").glob("*.png"))) == 2
