"""`zoo analyze`: each command's CSVs and PNG on a tiny trained run, the baseline refusal, `--negatives`."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from tests.cli_runner import run_cli
from zoo.analysis.embeddings import nearest_centroid, separability
from zoo.analysis.rain_detail import SWEEPS, ablation_rows
from zoo.analysis.source import load_source
from zoo.analysis.temperature import log_temperature, split_modulator_output, temperature_layers
from zoo.coic.contrastive import ContrastiveViews, RainArchive, build_views, contrastive_loss
from zoo.coic.encoder import MomentumEncoder, RainDetailEncoder
from zoo.errors import ZooError
from zoo.evaluation.records import make_row
from zoo.results.store import ResultsStore
from zoo.training.config import TrainConfig
from zoo.training.runs import default_run_dir
from zoo.training.trainer import Trainer

DOMAINS = 8  # synthmix test sets: 7 training domains + the held-out real-like
EVAL = {"eval_count": 4, "eval_size": 48}


def _train(out: Path, **settings) -> Path:
    cfg = TrainConfig("brn", batch=4, crop=32, synth_count=8, synth_size=48, ckpt_every=100, **EVAL, **settings)
    trainer = Trainer(cfg, out)
    trainer.fit()
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One tiny CoIC run (a few stage-2 steps, so the encoder and modulation have moved) and one baseline."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("analysis-runs")
    return {
        "coic": _train(root / "coic", coic=True, iters=10, stage1_iters=4),
        "baseline": _train(root / "baseline", coic=False, iters=2),
    }


def _cli(args: list[str], monkeypatch, capsys) -> str:
    code, out, err = run_cli(["analyze", *args], monkeypatch, capsys)
    assert code == 0, err
    return out


def _finite(frame: pd.DataFrame, columns: list[str]) -> None:
    values = frame[columns].to_numpy(dtype=float)
    assert np.isfinite(values).all(), columns


def test_embeddings_writes_projection_separability_and_relationships(runs, tmp_path, monkeypatch, capsys) -> None:
    out = _cli(["embeddings", str(runs["coic"]), "--out", str(tmp_path)], monkeypatch, capsys)
    assert "nearest_centroid_accuracy" in out and f"wrote {tmp_path / 'embeddings.png'}" in out
    assert (tmp_path / "embeddings.png").stat().st_size > 10_000
    points = pd.read_csv(tmp_path / "embeddings.csv")
    groups = DOMAINS + 1  # and the clean images
    assert len(points) == groups * EVAL["eval_count"] and points["group"].nunique() == groups
    z = points.filter(regex=r"^z\d+$").to_numpy()
    assert z.shape[1] == 64  # the tiny encoder's dim_z
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, atol=1e-5)
    _finite(points, ["x", "y"])
    sep = pd.read_csv(tmp_path / "embeddings-separability.csv")
    assert list(sep["group"]) == [*points["group"].unique(), "all"]
    assert sep["nearest_centroid_accuracy"].between(0, 1).all() and sep["silhouette"].between(-1, 1).all()
    similarity = pd.read_csv(tmp_path / "embeddings-similarity.csv")
    assert len(similarity) == groups**2 and similarity["cosine"].between(-1 - 1e-6, 1 + 1e-6).all()
    diagonal = similarity[similarity["group_a"] == similarity["group_b"]]
    np.testing.assert_allclose(diagonal[["cosine", "cosine_centred"]], 1.0, atol=1e-6)
    assert similarity["cosine_centred"].between(-1 - 1e-6, 1 + 1e-6).all()


def test_embeddings_tsne_and_untrained_control(runs, tmp_path, monkeypatch, capsys) -> None:
    _cli(["embeddings", str(runs["coic"]), "--method", "tsne", "--untrained", "--no-clean", "--per-set", "3", "--out", str(tmp_path)],
         monkeypatch, capsys)
    points = pd.read_csv(tmp_path / "embeddings-untrained.csv")
    assert len(points) == DOMAINS * 3 and "clean" not in set(points["group"])
    trained = load_source(runs["coic"]).model.key_encoder.encoder.conv1.weight
    from zoo.analysis.embeddings import untrained_copy

    control = untrained_copy(load_source(runs["coic"]).model, load_source(runs["coic"]))
    assert not torch.equal(control.key_encoder.encoder.conv1.weight, trained)


def test_nearest_centroid_is_leave_one_out() -> None:
    rng = np.random.default_rng(0)
    centres = np.eye(3, 8)
    z = np.concatenate([c + 0.05 * rng.standard_normal((5, 8)) for c in centres])
    groups = [g for g in "abc" for _ in range(5)]
    assert list(nearest_centroid(z, groups)) == groups
    frame = separability(z, groups)
    assert frame.set_index("group").loc["all", "nearest_centroid_accuracy"] == 1.0
    # Pure noise: with its own point left out, a group no longer recognises itself for free.
    noise = rng.standard_normal((60, 8))
    accuracy = float((nearest_centroid(noise, [g for g in "abc" for _ in range(20)]) == np.repeat(list("abc"), 20)).mean())
    assert accuracy < 0.6


def test_rain_detail_sweeps(runs, tmp_path, monkeypatch, capsys) -> None:
    _cli(["rain-detail", str(runs["coic"]), "--repeats", "2", "--size", "48", "--out", str(tmp_path)], monkeypatch, capsys)
    points = pd.read_csv(tmp_path / "rain-detail.csv")
    assert len(points) == sum(len(v) for v in SWEEPS.values()) * 2
    _finite(points, ["z_distance", "z_distance_normalised", "input_psnr", "psnr"])
    assert (points["z_distance"] >= 0).all() and (points["z_distance"] <= 2 + 1e-6).all()  # unit-norm z
    assert (points.groupby("factor")["z_distance"].min() == 0).all()  # the reference point of each sweep
    assert (points.groupby("factor")["z_distance"].max() > 0).all()  # ... and the others moved z
    density = points[points["factor"] == "density"].groupby("value")["input_psnr"].mean()
    assert density.is_monotonic_decreasing  # more rain, lower input PSNR: the sweep does what it says
    summary = pd.read_csv(tmp_path / "rain-detail-summary.csv")
    assert list(summary["factor"]) == list(SWEEPS) and (summary["z_move_max"] > 0).all()
    assert (tmp_path / "rain-detail.png").is_file()


def test_rain_detail_collects_negatives_ablation_from_a_store(runs, tmp_path) -> None:
    source = load_source(runs["coic"])
    store = ResultsStore(tmp_path / "store")
    rows = []
    for negatives, value in (("both", 30.0), ("rain", 29.0), ("detail", 28.5)):
        name = default_run_dir(replace(source.train, negatives=negatives), Path()).name
        rows.append(make_row(run=name, backbone="brn", config="tiny", method="coic", train_data="synthmix", eval_dataset="heavy",
                             metric="psnr", protocol=source.protocol, value=value, iterations=source.train.iters, source="measured"))
    rows.append({**rows[1], "iterations": source.train.iters + 1, "value": 1.0})  # another recipe: left out
    store.append(rows)
    found = ablation_rows(tmp_path / "store", source).set_index("negatives")["psnr"]
    assert found.to_dict() == {"both": 30.0, "rain": 29.0, "detail": 28.5}


def test_temperature_per_dataset_and_layer(runs, tmp_path, monkeypatch, capsys) -> None:
    _cli(["temperature", str(runs["coic"]), "--per-set", "2", "--out", str(tmp_path)], monkeypatch, capsys)
    per_image = pd.read_csv(tmp_path / "temperature.csv")
    layers = len(temperature_layers(load_source(runs["coic"]).model))
    assert layers > 0 and len(per_image) == DOMAINS * 2 * layers
    _finite(per_image, ["log_temperature"])
    summary = pd.read_csv(tmp_path / "temperature-summary.csv")
    assert len(summary) == DOMAINS * layers and (summary["n"] == 2).all() and (summary["std"] >= 0).all()
    assert (tmp_path / "temperature.png").is_file()


class _Recorder:
    """A ProgressLike that remembers what it was told."""

    def __init__(self) -> None:
        self.added: dict[int, float | None] = {}
        self.advanced: dict[int, float] = {}
        self.removed: list[int] = []

    def add_task(self, description: str, start: bool = True, total: float | None = 100.0, completed: int = 0,
                 visible: bool = True, **fields) -> int:
        self.added[len(self.added)] = total
        return len(self.added) - 1

    def update(self, task_id, *, advance: float | None = None, **fields) -> None:
        self.advanced[task_id] = self.advanced.get(task_id, 0) + (advance or 0)

    def remove_task(self, task_id) -> None:
        self.removed.append(task_id)


def test_analyses_report_progress_without_printing(runs, capsys) -> None:
    from zoo.analysis.temperature import measure

    source = load_source(runs["coic"])
    sets = source.sets(count=2)
    recorder = _Recorder()
    measure(source.model, sets, batch=3, progress=recorder)
    images = sum(len(pairs) for pairs in sets.values())
    assert recorder.added == {0: images} and recorder.advanced == {0: images} and recorder.removed == [0]
    assert capsys.readouterr() == ("", "")


def test_temperature_is_the_official_statistic() -> None:
    """Mean log of 1 / sigmoid(w1 + w2) / (mean(w3 - min w3) + 1e-8), written out as the official script does."""
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(6, 5, 3)
    from zoo.coic.modulation import ModulatedConv2d

    layer = ModulatedConv2d.from_conv(conv, dim_z=4)
    a = torch.randn(3, 5 + 6 + 9)
    ours = log_temperature(*split_modulator_output(layer, a))
    for b in range(3):
        w1, w2, w3 = a[b : b + 1, :5], a[b : b + 1, 5:11], a[b : b + 1, 11:]
        att = torch.sigmoid(w1.unsqueeze(1) + w2.unsqueeze(-1)).double()
        temp = 1.0 / att / ((w3 - w3.min()).double().mean() + 1e-8)
        torch.testing.assert_close(ours[b], torch.log(temp).mean())


def test_cost_compares_baseline_and_coic_from_either_run(runs, tmp_path, monkeypatch, capsys) -> None:
    for kind in ("coic", "baseline"):
        out = tmp_path / kind
        text = _cli(["cost", str(runs[kind]), "--size", "32", "--repeats", "1", "--warmup", "0", "--out", str(out)], monkeypatch, capsys)
        assert "CoIC / baseline" in text
        table = pd.read_csv(out / "cost.csv").set_index("variant")
        assert list(table.index) == ["baseline", "coic"]
        _finite(table, ["params", "macs", "seconds_mean", "seconds_median"])
        assert table.loc["coic", "params"] == table.loc["coic", ["backbone_params", "modulation_params", "encoder_params"]].sum()
        assert table.loc["coic", "backbone_params"] == table.loc["baseline", "params"]
        assert table.loc["coic", "macs"] > table.loc["baseline", "macs"] > 0
        assert (table["seconds_mean"] > 0).all() and (out / "cost.png").is_file()


@pytest.mark.parametrize("command", ["embeddings", "rain-detail", "temperature"])
def test_baseline_run_is_refused_in_one_line(command, runs, monkeypatch, capsys) -> None:
    code, out, err = run_cli(["analyze", command, str(runs["baseline"])], monkeypatch, capsys)
    assert code == 2 and "a baseline run has no encoder" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err + out


# --- `zoo train --negatives` -------------------------------------------------------------------


def _views() -> tuple[RainDetailEncoder, MomentumEncoder, ContrastiveViews]:
    torch.manual_seed(0)
    encoder = RainDetailEncoder(width=8, dim_z=16)
    clean = torch.rand(4, 3, 16, 16) * 0.5
    rainy = clean + 0.3 * (torch.rand(4, 3, 16, 16) > 0.9)
    views = build_views(rainy, clean, rainy, clean, RainArchive(), 3, torch.Generator().manual_seed(0))
    return encoder, MomentumEncoder(encoder, momentum=0.9), views


@pytest.mark.parametrize(("negatives", "kept"), [("both", slice(None)), ("rain", slice(0, 1)), ("detail", slice(1, None))])
def test_negatives_leave_the_other_kind_out_of_the_logits(negatives, kept) -> None:
    encoder, key, views = _views()
    loss, _ = contrastive_loss(encoder, copy.deepcopy(key), views, 1.0, negatives=negatives)
    only = ContrastiveViews(views.query, views.key, views.negatives[:, kept])
    expected, _ = contrastive_loss(encoder, copy.deepcopy(key), only, 1.0)
    torch.testing.assert_close(loss, expected, rtol=0, atol=0)
    full, _ = contrastive_loss(encoder, copy.deepcopy(key), views, 1.0)
    assert torch.equal(loss, full) == (negatives == "both")


def test_negatives_setting_is_validated_and_names_its_run(monkeypatch, capsys, tmp_path) -> None:
    with pytest.raises(ZooError, match="--negatives 'rian' is not one of: both, rain, detail"):
        TrainConfig("brn", negatives="rian").resolved()
    code, _, err = run_cli(["train", "brn", "--negatives", "rian", "--out", str(tmp_path / "r")], monkeypatch, capsys)
    assert code == 2 and "--negatives 'rian'" in err and len(err.strip().splitlines()) == 1
    assert default_run_dir(TrainConfig("brn")).name == "brn-tiny-synthmix-coic-s0"  # the default keeps its name
    assert default_run_dir(TrainConfig("brn", negatives="detail")).name == "brn-tiny-synthmix-coic-s0-neg-detail"
