"""A damaged file in the results store is named in one line, never read as other rows (issue 25).

Each kind of damage (truncated, zero bytes, binary, wrong columns, a line of another width) makes the
store refuse with the file's name; `zoo leaderboard --skip-damaged` leaves it out and says so in its
output; `zoo bench --resume-cells` names it and goes on training.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.cli_runner import run_cli
from zoo.errors import ZooError
from zoo.evaluation.records import make_row
from zoo.results.store import ResultsStore, skipping_damaged


def _rows(method: str, value: float, seed: int = 0) -> list[dict]:
    return [
        make_row(run=f"brn-tiny-synthmix-{method}-s{seed}", backbone="brn", config="tiny", method=method, train_data="synthmix",
                 eval_dataset=dataset, metric="psnr", protocol="y-matlab", value=value, n_images=2, iterations=10, seed=seed,
                 code_version="test", source="measured", citation="", tiled=False)
        for dataset in ("light", "heavy")
    ]


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 7])  # cut inside the last line


def _zero(path: Path) -> None:
    path.write_bytes(b"")


def _binary(path: Path) -> None:
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))


def _wrong_columns(path: Path) -> None:
    path.write_text("name,score\nbrn,30.0\n")


def _ragged(path: Path) -> None:
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[1] + ",extra", *lines[2:]]) + "\n")


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (_truncate, "truncated: its last line is incomplete"),
    "zero-bytes": (_zero, "empty, zero bytes"),
    "binary": (_binary, "binary data, not CSV text"),
    "wrong-columns": (_wrong_columns, "wrong columns: unknown columns ['name', 'score']; missing columns ['run', 'backbone', 'config']"),
    "ragged-line": (_ragged, "line 2 has 27 fields, the header 26"),
}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    results = ResultsStore(root)
    results.append(_rows("baseline", 30.0))
    results.append(_rows("coic", 31.0))
    return root


def _damage(store: Path, kind: str) -> Path:
    victim = ResultsStore(store).append(_rows("coic", 99.0, seed=1))
    assert victim is not None
    DAMAGE[kind][0](victim)
    return victim


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_each_damage_is_refused_naming_the_file(kind: str, store: Path) -> None:
    victim = _damage(store, kind)
    with pytest.raises(ZooError) as info:
        ResultsStore(store).load()
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{victim}: damaged results file ({DAMAGE[kind][1]})"), message
    assert "--skip-damaged" in message
    with skipping_damaged() as skipped:
        table = ResultsStore(store).load()
    assert len(table) == 4 and 99.0 not in set(table["value"])  # the good rows only, none invented from the damaged file
    assert skipped == [f"skipped {victim}: damaged results file ({DAMAGE[kind][1]})"]


def test_damaged_per_image_and_curve_files_are_refused_too(store: Path) -> None:
    for prefix in ("images", "curve"):
        bad = store / f"{prefix}-0-bad.csv"
        bad.write_bytes(b"")
        reader = ResultsStore(store).load_images if prefix == "images" else ResultsStore(store).load_curves
        with pytest.raises(ZooError, match=re.escape(f"{bad}: damaged results file (empty, zero bytes)")):
            reader()
        bad.unlink()


def test_old_parts_with_fewer_columns_still_read(store: Path) -> None:
    old = store / "part-0-old.csv"
    old.write_text("run,backbone,config,method,train_data,eval_dataset,metric,protocol,value,iterations,seed,source\n"
                   "r,brn,tiny,coic,synthmix,ddn,psnr,y-matlab,28.5,10,0,measured\n")
    assert len(ResultsStore(store).load()) == 5


def test_leaderboard_refuses_or_skips_and_says_so(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    victim = _damage(store, "truncated")
    code, out, err = run_cli(["leaderboard", "--store", str(store)], monkeypatch, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    assert f"{victim}: damaged results file (truncated" in " ".join(err.split())

    code, out, err = run_cli(["leaderboard", "--store", str(store), "--skip-damaged"], monkeypatch, capsys)
    assert code == 0, err
    assert "31.00" in out and "99.00" not in out
    assert f"note: skipped {victim}: damaged results file (truncated" in " ".join(err.split())

    board = tmp_path / "board.md"
    code, out, err = run_cli(["leaderboard", "--store", str(store), "--skip-damaged", "--out", str(board)], monkeypatch, capsys)
    assert code == 0, err
    text = " ".join(board.read_text().split())
    assert f"Left out 1 damaged store file(s): {victim}: damaged results file (truncated" in text
    assert "--skip-damaged" in text  # the regenerating command
    code, out, err = run_cli(["leaderboard", "--store", str(store), "--skip-damaged", "--format", "html"], monkeypatch, capsys)
    assert code == 0 and "Left out 1 damaged store file(s)" in out


def test_bench_resume_names_the_damaged_part_and_trains(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    ResultsStore(store).append(_rows("baseline", 30.0))
    victim = _damage(store, "zero-bytes")
    matrix = tmp_path / "m.yaml"
    matrix.write_text(yaml.safe_dump({
        "name": "damaged", "backbones": ["brn"], "methods": ["baseline"], "data": ["synthmix"], "seeds": [5],
        "settings": {"iters": 1, "batch": 2, "crop": 32, "synth_count": 2, "synth_size": 48, "eval_count": 1, "eval_size": 48},
    }))
    args = ["bench", str(matrix), "--runs", str(tmp_path / "runs"), "--store", str(store), "--resume-cells", "--no-progress", "--device", "cpu"]
    code, out, err = run_cli(args, monkeypatch, capsys)
    assert code == 0, out + err
    assert f"note: skipped {victim}: damaged results file (empty, zero bytes)" in " ".join(err.split())
    assert "trained 1 it" in out
    assert victim.read_bytes() == b""  # left for the user to remove; never rewritten
    with skipping_damaged():
        runs = set(ResultsStore(store).load()["run"])
    assert "brn-tiny-synthmix-baseline-s5" in runs
