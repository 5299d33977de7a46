"""Learning curves: `--eval-every N` scores the test sets during training without changing the training."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.cli_runner import run_cli
from zoo.evaluation.records import curve_rows, make_row
from zoo.results.plot import plot_curves
from zoo.results.store import ResultsStore
from zoo.training.config import TrainConfig
from zoo.training.curves import read_curve
from zoo.training.evaluate_run import evaluate_run
from zoo.training.runtime import Runtime
from zoo.training.trainer import Trainer

TINY = {"batch": 2, "crop": 32, "synth_count": 4, "synth_size": 48, "eval_count": 2, "eval_size": 48, "iters": 4, "stage1_iters": 2}


def _train(run_dir: Path, eval_every: int) -> Trainer:
    trainer = Trainer(TrainConfig("brn", coic=True, eval_every=eval_every, **TINY), run_dir, runtime=Runtime(device="cpu", workers=0))
    try:
        trainer.fit()
    finally:
        trainer.close()
    return trainer


def test_eval_every_records_a_curve_and_trains_exactly_as_without(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _train(tmp_path / "plain", 0)
    _train(tmp_path / "curve", 2)
    plain = torch.load(tmp_path / "plain" / "train_state.pt", map_location="cpu", weights_only=True)["model"]
    curved = torch.load(tmp_path / "curve" / "train_state.pt", map_location="cpu", weights_only=True)["model"]
    assert plain.keys() == curved.keys() and all(torch.equal(plain[k], curved[k]) for k in plain)
    assert read_curve(tmp_path / "plain") == []

    curve = read_curve(tmp_path / "curve")
    assert [p["step"] for p in curve] == [2, 4] and len(curve[0]["psnr"]) == 8
    metrics = evaluate_run(tmp_path / "curve")
    assert metrics["curve"] == curve
    final = {name: result["psnr"] for name, result in metrics["datasets"].items()}
    assert curve[-1]["psnr"] == pytest.approx(final, abs=1e-9)  # the last point is the final model's score

    events = EventAccumulator(str(tmp_path / "curve")).Reload()
    assert [e.step for e in events.Scalars("test/psnr_average")] == [2, 4]
    assert "test/psnr/light" in events.Tags()["scalars"]

    lines = curve_rows(metrics["rows"], curve)
    assert len(lines) == 2 * 8 and {line["method"] for line in lines} == {"coic"}


def test_zoo_train_eval_every_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["train", "brn", "--eval-every", "-1", "--out", str(tmp_path / "r")], monkeypatch, capsys)
    assert code == 2 and "--eval-every -1" in err


def _curve_store(root: Path) -> Path:
    store = ResultsStore(root)
    for method, slope in (("baseline", 1.0), ("coic", 1.5)):
        for seed in (0, 1):
            rows = [make_row(run=f"{method}{seed}", backbone=b, config="tiny", method=method, train_data="synthmix",
                             eval_dataset="light", metric="psnr", protocol="y-matlab", value=20.0, iterations=30, seed=seed,
                             source="measured") for b in ("brn",)]
            curve = [{"step": s, "psnr": {"light": 20 + slope * s / 10 + seed * 0.1}} for s in (10, 20, 30)]
            store.append(rows, curve=curve_rows(rows, curve))
    return root


def test_curves_roundtrip_the_store_and_plot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    store = _curve_store(tmp_path / "results")
    curves = ResultsStore(store).load_curves()
    assert len(curves) == 2 * 2 * 3 and sorted(curves["step"].unique()) == [10, 20, 30]
    out = plot_curves(curves, tmp_path / "curves.png")
    assert out.stat().st_size > 1000
    import zoo.results.plot as plots

    drawn: list[int] = []
    monkeypatch.setattr(plots, "plot_curves", lambda frame, path: drawn.append(len(frame)) or plot_curves(frame, path))
    one_method = tmp_path / "baseline-only"
    for part in store.glob("*.csv"):
        if "coic" not in part.read_text():
            one_method.mkdir(exist_ok=True)
            (one_method / part.name).write_text(part.read_text())
    code, _, err = run_cli(["leaderboard", "--store", str(one_method), "--format", "csv", "--plot", str(tmp_path / "cli.png")], monkeypatch, capsys)
    assert code == 0 and (tmp_path / "cli.png").is_file() and drawn == [6], err  # the curves, not the gain bars
