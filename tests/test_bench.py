"""`zoo bench` and `zoo leaderboard`: matrix expansion and shards, restart after a kill, and the numbers
and files a leaderboard is made of."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

import zoo
from tests.cli_runner import run_cli
from zoo.bench import (
    load_matrix,
    matrix_from_dict,
    parse_shard,
    run_bench,
    shard_cells,
)
from zoo.bench.runner import INGESTED, RESUMED, STORED, TRAINED
from zoo.errors import ZooError
from zoo.evaluation.records import COLUMNS, KEY, REPORTED_COLUMNS, make_row
from zoo.results.boards import GAIN, build
from zoo.results.generated import generated_line
from zoo.results.render import CSV_COLUMNS, render
from zoo.results.store import ResultsStore

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "benchmarks" / "matrices" / "smoke.yaml"
REPORTED = REPO / "leaderboards" / "reported"
TINY = {"batch": 2, "crop": 32, "synth_count": 4, "synth_size": 48, "eval_count": 2, "eval_size": 48}


def _matrix(tmp_path: Path, iters: int = 4, **extra) -> Path:
    spec = {
        "name": "t", "backbones": ["brn"], "methods": ["baseline", "coic"], "data": ["synthmix"], "seeds": [0],
        "settings": {"iters": iters, "stage1_iters": iters // 2, **TINY, **extra},
    }
    path = tmp_path / "matrix.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def _snapshot(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*")) if p.is_file()}


def _raw_rows(store: Path) -> pd.DataFrame:
    return pd.concat([pd.read_csv(p) for p in sorted(store.glob("part-*.csv"))], ignore_index=True)


# ---------------------------------------------------------------------------------------------
# Matrix and shards


def test_matrix_expands_in_a_fixed_order() -> None:
    matrix = matrix_from_dict(
        {"backbones": "*", "methods": ["baseline", "coic"], "data": "synthmix", "seeds": [0, 1, 2], "settings": {"iters": 10}}
    )
    cells = matrix.cells()
    assert matrix.backbones == tuple(zoo.list_models())
    assert len(cells) == len(zoo.list_models()) * 2 * 3
    assert [c.index for c in cells] == list(range(len(cells)))
    first = zoo.list_models()[0]
    assert [c.name for c in cells[:4]] == [
        f"{first}-tiny-synthmix-baseline-s0", f"{first}-tiny-synthmix-baseline-s1",
        f"{first}-tiny-synthmix-baseline-s2", f"{first}-tiny-synthmix-coic-s0",
    ]
    assert all(c.cfg.iters == 10 and c.cfg.coic == (c.method == "coic") for c in cells)
    assert [c.name for c in matrix.cells()] == [c.name for c in cells]  # deterministic


def test_shipped_matrices_load() -> None:
    cpu = load_matrix(REPO / "benchmarks" / "matrices" / "synthmix-cpu.yaml")
    assert len(cpu.cells()) == len(cpu.backbones) * 2 * 3
    assert {"brn", "rcdnet", "dgunet", "idt", "drsformer"} <= set(cpu.backbones)
    assert sum(zoo.model_info(b).source == "spandrel" for b in cpu.backbones) >= 4
    assert {(c.cfg.iters, c.cfg.stage1_iters, c.cfg.batch, c.cfg.crop, c.cfg.eval_count) for c in cpu.cells()} == {(200, 60, 8, 64, 16)}
    smoke = load_matrix(SMOKE)
    assert [c.backbone for c in smoke.cells()] == ["brn", "brn"] and smoke.seeds == (0,)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"backbones": ["brm"]}, "did you mean brn"),
        ({"methods": ["coic", "both"]}, "unknown methods ['both']"),
        ({"seeds": []}, "'seeds' is missing or empty"),
        ({"settings": {"seed": 3}}, "set by the matrix axes"),
        ({"settings": {"itres": 3}}, "itres: unknown training setting"),
        ({"settings": {"iters": 0}}, "--iters 0 must be at least 1"),
        ({"sedes": [0]}, "unknown keys ['sedes']"),
    ],
)
def test_bad_matrix_is_a_clear_error(change: dict, message: str) -> None:
    spec = {"backbones": ["brn"], "methods": ["coic"], "data": ["synthmix"], "seeds": [0], **change}
    with pytest.raises(ZooError, match=None) as info:
        matrix_from_dict(spec)
    assert message in str(info.value)


def test_shards_partition_the_cells() -> None:
    cells = matrix_from_dict({"backbones": "*", "methods": ["baseline", "coic"], "data": ["synthmix"], "seeds": [0, 1, 2]}).cells()
    for n in (1, 2, 3, 7):
        parts = [shard_cells(cells, (i, n)) for i in range(1, n + 1)]
        names = [c.name for part in parts for c in part]
        assert sorted(names) == sorted(c.name for c in cells) and len(names) == len(set(names))
        assert all(abs(len(a) - len(b)) <= 1 for a in parts for b in parts)
    assert [c.index for c in shard_cells(cells, (2, 3))][:3] == [1, 4, 7]
    assert parse_shard("2/4") == (2, 4) and parse_shard(None) is None
    for bad in ("0/2", "3/2", "a/b", "2", "1/0"):
        with pytest.raises(ZooError, match="is not i/n"):
            parse_shard(bad)


# ---------------------------------------------------------------------------------------------
# Restarting


def test_killed_bench_resumes_without_redoing_or_duplicating(tmp_path: Path) -> None:
    """SIGKILL `zoo bench` while the second cell trains; `--resume-cells` finishes only that cell."""
    matrix = _matrix(tmp_path, iters=24, ckpt_every=2)
    runs, store = tmp_path / "runs", tmp_path / "results"
    args = [sys.executable, "-m", "zoo", "bench", str(matrix), "--runs", str(runs), "--store", str(store), "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    first, second = runs / "brn-tiny-synthmix-baseline-s0", runs / "brn-tiny-synthmix-coic-s0"
    log = tmp_path / "bench.log"
    with log.open("w") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while not (second / "config.json").exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None, "bench finished before it could be killed:\n" + log.read_text()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert "[1/2] brn-tiny-synthmix-baseline-s0: trained 24 it" in log.read_text()
    assert len(list(store.glob("part-*.csv"))) == 1  # cell 1's rows, nothing of cell 2
    before = {**_snapshot(first), **{f"store/{k}": v for k, v in _snapshot(store).items()}}
    parts_before = sorted(store.glob("part-*.csv"))
    kept = {p.relative_to(store) for p in parts_before + sorted(store.glob("images-*.csv"))}

    with pytest.raises(ZooError, match="--resume-cells"):  # an interrupted cell is not silently restarted
        run_bench(load_matrix(matrix), runs, store)
    report = run_bench(load_matrix(matrix), runs, store, resume=True)
    assert [r.status for r in report.results] == [STORED, RESUMED]
    after = {**_snapshot(first), **{f"store/{k}": v for k, v in _snapshot(store).items() if Path(k) in kept}}
    assert after == before  # cell 1 not retrained, re-evaluated or rewritten; its rows not rewritten
    parts = sorted(store.glob("part-*.csv"))
    assert set(parts_before) <= set(parts) and len(parts) == 2  # cell 1's part kept, one part added
    raw, table = _raw_rows(store), ResultsStore(store).load()
    assert len(raw) == len(table) == 2 * 8 * 4  # 2 cells x 8 synthmix test sets x 4 metrics, no duplicate keys
    assert not table.duplicated(subset=list(KEY)).any()
    assert set(table["iterations"]) == {24}

    again = run_bench(load_matrix(matrix), runs, store, resume=True)
    assert [r.status for r in again.results] == [STORED, STORED]
    assert sorted(store.glob("part-*.csv")) == parts


def test_finished_run_missing_from_the_store_is_ingested_not_retrained(tmp_path: Path) -> None:
    matrix = load_matrix(_matrix(tmp_path))
    runs, store = tmp_path / "runs", tmp_path / "results"
    report = run_bench(matrix, runs, store)
    assert [r.status for r in report.results] == [TRAINED, TRAINED]
    # Emulate a kill between the second cell's metrics.json and its rows reaching the store.
    part = max(store.glob("part-*.csv"), key=lambda p: pd.read_csv(p)["method"].iloc[0] == "coic")
    part.unlink()
    (store / part.name.replace("part-", "images-", 1)).unlink()
    before = _snapshot(runs)
    report = run_bench(matrix, runs, store)
    assert [r.status for r in report.results] == [STORED, INGESTED]
    assert _snapshot(runs) == before
    assert len(ResultsStore(store).load()) == len(_raw_rows(store)) == 64
    # Both cells' per-image scores reached the store, the ingested one's from its metrics.json.
    images = ResultsStore(store).load_images()
    rows = ResultsStore(store).load()
    assert sorted(images["method"].unique()) == ["baseline", "coic"] and len(list(store.glob("images-*.csv"))) == 2
    for (run, dataset), group in images.groupby(["run", "eval_dataset"]):
        stored = rows[(rows["run"] == run) & (rows["eval_dataset"] == dataset) & (rows["metric"] == "psnr")]["value"].iloc[0]
        assert group["psnr"].mean() == pytest.approx(stored)

    # A run folder from other settings is never mistaken for the cell.
    other = load_matrix(_matrix(tmp_path, iters=6))
    with pytest.raises(ZooError, match="other settings than the matrix cell"):
        run_bench(other, runs, tmp_path / "other-store")


def test_bench_cli_smoke_matrix_and_shards(monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(["bench", str(SMOKE), "--shard", "2/2", "--no-progress"], monkeypatch, capsys)
    assert code == 0, out
    assert "[1/1] brn-tiny-synthmix-coic-s0: trained 4 it" in out
    assert (tmp_path / "runs" / "smoke" / "brn-tiny-synthmix-coic-s0" / "metrics.json").is_file()
    assert not (tmp_path / "runs" / "smoke" / "brn-tiny-synthmix-baseline-s0").exists()
    code, out, _ = run_cli(["bench", str(SMOKE), "--dry-run"], monkeypatch, capsys)
    assert code == 0 and "brn-tiny-synthmix-baseline-s0" in out and "stored" in out
    code, _, err = run_cli(["bench", str(SMOKE), "--shard", "3/2"], monkeypatch, capsys)
    assert code == 2 and "--shard '3/2' is not i/n" in err


# ---------------------------------------------------------------------------------------------
# Leaderboard


VALUES = {  # (backbone, method, seed) -> {dataset: psnr}
    ("brn", "baseline", 0): {"light": 30.0, "heavy": 20.0},
    ("brn", "baseline", 1): {"light": 31.0, "heavy": 21.5},
    ("brn", "baseline", 2): {"light": 29.5, "heavy": 20.5},
    ("brn", "coic", 0): {"light": 30.4, "heavy": 21.0},
    ("brn", "coic", 1): {"light": 31.1, "heavy": 22.0},
    ("brn", "coic", 2): {"light": 30.5, "heavy": 20.9},
    ("brn", "coic", 3): {"light": 40.0, "heavy": 40.0},  # no baseline partner: left out of the gain
    ("idt", "baseline", 0): {"light": 32.0, "heavy": 19.0},
    ("idt", "coic", 0): {"light": 32.5, "heavy": 19.2},
}


def _synthetic_store(root: Path) -> Path:
    rows = []
    for (backbone, method, seed), sets in VALUES.items():
        for dataset, value in sets.items():
            for metric, v in (("psnr", value), ("ssim", value / 100)):
                rows.append(make_row(
                    run=f"{backbone}-tiny-synthmix-{method}-s{seed}", backbone=backbone, config="tiny", method=method,
                    train_data="synthmix", eval_dataset=dataset, metric=metric, protocol="y-matlab", value=v, n_images=2,
                    iterations=200, seed=seed, code_version="0.1.0+test", source="measured", citation="", tiled=False,
                ))
    ResultsStore(root).append(rows[: len(rows) // 2])
    ResultsStore(root).append(rows[len(rows) // 2 :])
    return root


def test_leaderboard_pivot_equals_hand_computed_statistics(tmp_path: Path) -> None:
    lb = build(_synthetic_store(tmp_path / "results"))
    (board,) = lb.boards
    assert board.datasets == ["light", "heavy", "average"] and board.iterations == 200 and board.protocol == "y-matlab"
    mean, std, n = board.pivot("mean"), board.pivot("std"), board.pivot("n")
    for backbone, method in (("brn", "baseline"), ("brn", "coic"), ("idt", "coic")):
        seeds = sorted(s for b, m, s in VALUES if (b, m) == (backbone, method))
        for dataset in ("light", "heavy"):
            values = [VALUES[(backbone, method, s)][dataset] for s in seeds]
            assert mean.loc[(backbone, "tiny", method), dataset] == pytest.approx(statistics.mean(values))
            assert n.loc[(backbone, "tiny", method), dataset] == len(values)
            if len(values) > 1:
                assert std.loc[(backbone, "tiny", method), dataset] == pytest.approx(statistics.stdev(values))
            else:
                assert pd.isna(std.loc[(backbone, "tiny", method), dataset])
        averages = [statistics.mean(VALUES[(backbone, method, s)].values()) for s in seeds]
        assert mean.loc[(backbone, "tiny", method), "average"] == pytest.approx(statistics.mean(averages))
    # CoIC − baseline: per-seed differences on the seeds both ran (0, 1, 2 for brn; seed 3 has no partner).
    for dataset in ("light", "heavy"):
        diffs = [VALUES[("brn", "coic", s)][dataset] - VALUES[("brn", "baseline", s)][dataset] for s in (0, 1, 2)]
        assert mean.loc[("brn", "tiny", GAIN), dataset] == pytest.approx(statistics.mean(diffs))
        assert std.loc[("brn", "tiny", GAIN), dataset] == pytest.approx(statistics.stdev(diffs))
        assert n.loc[("brn", "tiny", GAIN), dataset] == 3
    assert mean.loc[("idt", "tiny", GAIN), "heavy"] == pytest.approx(0.2)
    # Best per column: brn CoIC (with its unpaired 40 dB seed) on both sets; never a gain row.
    best = board.stats[board.stats["best"].astype(bool)]
    assert set(zip(best["backbone"], best["method"], best["eval_dataset"])) == {
        ("brn", "coic", "light"), ("brn", "coic", "heavy"), ("brn", "coic", "average"),
    }
    assert board.rows[:3] == [("brn", "tiny", "baseline"), ("brn", "tiny", "coic"), ("brn", "tiny", GAIN)]


def test_leaderboard_outputs_render(tmp_path: Path) -> None:
    lb = build(_synthetic_store(tmp_path / "results"), metric="ssim")
    md = render(lb, "md", generated_line(lb, "zoo leaderboard --metric ssim --format md"))
    assert md.startswith("<!-- Generated by `zoo leaderboard --metric ssim --format md` on ")
    assert "Protocol y-matlab" in md and "| backbone | config | method | seeds | images | light | heavy | average |" in md
    assert "| brn | tiny | baseline | 3 | 2 | 0.3017 ± 0.0076 |" in md
    # the gain: mean of 3 paired differences (std 0.0046) and its t-interval, 0.0050 ± t(0.975, 2) * 0.0046 / sqrt(3)
    assert "**0.3300 ± 0.0468**" in md and "| brn | tiny | CoIC − baseline | 3 | 2 | +0.0050 [-0.0064, +0.0164] |" in md
    html = render(lb, "html")
    assert "<table class=\"sortable\"" in html and "<b>0.3300 ± 0.0468</b>" in html and "<caption>Protocol y-matlab" in html
    csv_text = render(lb, "csv")
    assert "±" not in csv_text
    table = pd.read_csv(pd.io.common.StringIO(csv_text))
    assert list(table.columns) == list(CSV_COLUMNS)
    row = table[(table["backbone"] == "brn") & (table["method"] == "baseline") & (table["eval_dataset"] == "light")].iloc[0]
    assert row["mean"] == pytest.approx(0.301667, abs=1e-6) and row["n"] == 3 and row["std"] == pytest.approx(0.007638, abs=1e-6)
    assert set(table["method"]) == {"baseline", "coic", GAIN}
    text = render(lb, "table")
    assert "CoIC − baseline" in text and "0.3300 ± 0.0468*" in text


def test_leaderboard_names_what_the_store_has(tmp_path: Path) -> None:
    store = _synthetic_store(tmp_path / "results")
    with pytest.raises(ZooError, match=r"no eval_dataset 'rain200h'; it has: heavy, light"):
        build(store, datasets=["rain200h"])
    with pytest.raises(ZooError, match=r"no metric 'niqe'; it has: psnr, ssim"):
        build(store, metric="niqe")
    with pytest.raises(ZooError, match=r"no source 'reported'; it has: measured"):
        build(store, source="reported", reported=tmp_path / "none")
    with pytest.raises(ZooError, match="no rows in the results store"):
        build(tmp_path / "empty")


def test_leaderboard_cli_writes_md_csv_html_and_plot(monkeypatch, capsys, tmp_path: Path) -> None:
    store = _synthetic_store(tmp_path / "results")
    for suffix in ("md", "csv", "html"):
        out = tmp_path / f"board.{suffix}"
        code, _, err = run_cli(["leaderboard", "--store", str(store), "--out", str(out)], monkeypatch, capsys)
        assert code == 0 and f"wrote {out}" in err.replace("\n", "")
    assert f"`zoo leaderboard --store {store} --format md --out {tmp_path / 'board.md'}`" in (tmp_path / "board.md").read_text()
    assert pd.read_csv(tmp_path / "board.csv")["n"].dtype.kind == "i"
    png = tmp_path / "gain.png"
    code, out, _ = run_cli(["leaderboard", "--store", str(store), "--dataset", "light", "--plot", str(png)], monkeypatch, capsys)
    assert code == 0 and "light" in out and "heavy" not in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    code, _, err = run_cli(["leaderboard", "--store", str(store), "--metric", "niqe"], monkeypatch, capsys)
    assert code == 2 and "it has: psnr, ssim" in err


def test_reported_official_drsformer_rows() -> None:
    path = REPORTED / "coic-official-drsformer.csv"
    table = pd.read_csv(path)
    assert list(table.columns) == [*COLUMNS, *REPORTED_COLUMNS]
    assert len(table) == 12 and set(table["source"]) == {"reported"} and set(table["protocol"]) == {"coic-paper"}
    assert table["citation"].str.startswith("Schizophreni/CoIC README @ 8c99e73 (ICLR 2024 official code)").all()
    assert table["citation"].str.contains("ambiguous").all() and set(table["train_data"]) == {"mix5+spa"}
    lb = build(Path("no-store"), source="reported", reported=REPORTED)
    (board,) = [b for b in lb.boards if b.citation.startswith("Schizophreni/CoIC README")]
    gain = board.pivot("mean").loc[("drsformer", "paper", GAIN)]
    expected = {"rain200l": 0.38, "rain200h": 1.04, "rain800": 0.88, "did": 0.11, "ddn": 0.23, "spa": 0.57}
    for dataset, value in expected.items():
        assert gain[dataset] == pytest.approx(value, abs=1e-9)
    assert board.pivot("mean").loc[("drsformer", "paper", "coic"), "spa"] == 46.03


