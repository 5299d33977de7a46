"""The results store under concurrent writers: every append lands whole, none is lost."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pandas as pd

from zoo.evaluation.records import COLUMNS, KEY, make_row
from zoo.results.store import ResultsStore

WRITERS, APPENDS, ROWS = 4, 5, 6


def _rows(writer: int, append: int) -> list[dict]:
    return [
        make_row(run=f"w{writer}-a{append}", backbone="brn", config="tiny", method="coic", train_data="synthmix",
                 eval_dataset=f"set{i}", metric="psnr", protocol="y-matlab", value=float(writer * 100 + append + i / 10),
                 seed=writer, source="measured")
        for i in range(ROWS)
    ]


def _writer(root: str, writer: int) -> None:
    store = ResultsStore(root)
    for append in range(APPENDS):
        store.append(_rows(writer, append))


def _check(root: Path) -> None:
    table = ResultsStore(root).load()
    assert list(table.columns) == list(COLUMNS)
    assert len(table) == WRITERS * APPENDS * ROWS
    assert not table.duplicated(subset=list(KEY)).any()
    assert len(list(root.glob("part-*.csv"))) == WRITERS * APPENDS
    assert not list(root.glob(".*.tmp"))  # no temporary file left behind
    expected = sorted(writer * 100 + append + i / 10 for writer in range(WRITERS) for append in range(APPENDS) for i in range(ROWS))
    assert sorted(table["value"]) == expected


def test_concurrent_processes_append_every_row(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    procs = [context.Process(target=_writer, args=(str(tmp_path), w)) for w in range(WRITERS)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    _check(tmp_path)


def test_concurrent_threads_append_every_row(tmp_path: Path) -> None:
    threads = [threading.Thread(target=_writer, args=(str(tmp_path), w)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    _check(tmp_path)


def test_same_key_appended_again_keeps_one_row(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    store.append(_rows(0, 0))
    store.append(_rows(0, 0))
    assert len(store.load()) == ROWS and len(pd.concat(pd.read_csv(p) for p in tmp_path.glob("part-*.csv"))) == 2 * ROWS


def test_a_key_appended_again_reads_back_with_its_newest_value(tmp_path: Path) -> None:
    """A re-run's new number replaces the stored one: the newest part wins, not the first one read."""
    store = ResultsStore(tmp_path)
    first = _rows(0, 0)
    store.append(first)
    store.append([{**row, "value": row["value"] + 1.0} for row in first])
    table = store.load()
    assert sorted(table["value"]) == sorted(row["value"] + 1.0 for row in first)
