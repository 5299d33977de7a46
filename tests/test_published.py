"""The published leaderboard ships with the package: `zoo leaderboard` answers with no store of one's own."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.cli_runner import run_cli
from zoo.evaluation.records import make_row
from zoo.results.packaged_board import HOME, PACKAGED, pack, store_tables
from zoo.results.store import MODEL_COSTS_FILE, ResultsStore

REPO = Path(__file__).resolve().parents[1]


def test_packaged_copy_matches_the_committed_store() -> None:
    """Fails when leaderboards/results changed without `python tools/pack_published.py`."""
    home_rows, home_images = store_tables(REPO / HOME)
    rows, images = store_tables(PACKAGED)
    assert len(rows) > 0
    pd.testing.assert_frame_equal(rows, home_rows)
    pd.testing.assert_frame_equal(images.reset_index(drop=True), home_images.reset_index(drop=True), check_dtype=False)
    assert (PACKAGED / MODEL_COSTS_FILE).read_bytes() == (REPO / HOME / MODEL_COSTS_FILE).read_bytes()


def test_pack_writes_one_part_and_one_images_file(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "store")
    for seed in (0, 1):
        row = make_row(run=f"r{seed}", backbone="brn", config="tiny", method="coic", train_data="synthmix", eval_dataset="light",
                       metric="psnr", protocol="y-matlab", value=30.0 + seed, iterations=5, seed=seed, source="measured")
        store.append([row], [{**{k: row[k] for k in row if k not in ("metric", "value")}, "index": 0, "psnr": 30.0 + seed, "ssim": 0.9}])
    written = pack(tmp_path / "store", tmp_path / "packed")
    assert sorted(p.name for p in written) == ["images-published.csv", "part-published.csv"]
    assert len(ResultsStore(tmp_path / "packed").load()) == 2 and len(ResultsStore(tmp_path / "packed").load_images()) == 2


def test_leaderboard_without_a_store_shows_the_published_rows_and_the_users_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # a new user's folder: no results/, no leaderboards/
    code, out, err = run_cli(["leaderboard", "--format", "md"], monkeypatch, capsys)
    assert code == 0, err
    assert "## PSNR (dB), published: trained on synthmix, 200 iterations" in out and "measured:" not in out
    assert "the published leaderboard (packaged copy of leaderboards/results)" in out

    ResultsStore(tmp_path / "results").append([
        make_row(run="mine", backbone="brn", config="tiny", method="baseline", train_data="synthmix", eval_dataset="light",
                 metric="psnr", protocol="y-matlab", value=31.5, n_images=4, iterations=50, seed=0, source="measured")
    ])
    code, out, err = run_cli(["leaderboard", "--format", "md"], monkeypatch, capsys)
    assert code == 0, err
    published = out.index("## PSNR (dB), published: trained on synthmix, 200 iterations")
    mine = out.index("## PSNR (dB), measured: trained on synthmix, 50 iterations")
    assert published < mine and "| brn | tiny | baseline | 1 | 4 | **31.50** |" in out[mine:]
    assert "and your results store results" in out
    code, out, err = run_cli(["leaderboard", "--format", "csv"], monkeypatch, capsys)
    assert code == 0 and {"published", "measured"} <= set(pd.read_csv(pd.io.common.StringIO(out))["source"])
