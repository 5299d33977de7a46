"""SIGKILL `zoo train` and `zoo bench` at exact points; nothing on disk is ever half-written, and resuming
ends bit-identical to a run that was never interrupted.

The commands run in subprocesses through `tests/kill_wrapper.py`, which pauses them at a chosen point
(mid-step, half-way through writing a checkpoint file, between two files of one checkpoint, during
evaluation, half-way through a results-store append) and logs the sha256 of every complete file
version the atomic writer moves into place. After each kill every file in the run directory must be
one of those complete versions (and load); the temporary file of a killed write may remain, hidden,
and is removed when the run resumes. TensorBoard event files are append-only logs (one per process,
records framed with checksums, so a torn last record is dropped by their reader) and are not versioned.
Files are created under umask 022 and must be 0644.

Bit-identity must hold within one machine: the uninterrupted run (in this process) and the killed and
resumed ones (subprocesses with this environment) each use one thread on the same CPU, so one float32
kernel path. A CPU with another oneDNN/MKL instruction set or thread count rounds the same step
differently, so a run resumed there goes on correctly but not bit for bit, and that is not what this tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from safetensors.torch import load_file

from zoo.bench import load_matrix, run_bench
from zoo.bench.runner import RESUMED, STORED
from zoo.evaluation.records import KEY
from zoo.results.store import ResultsStore
from zoo.training import TrainConfig, Trainer

REPO = Path(__file__).resolve().parents[1]
WRAPPER = Path(__file__).with_name("kill_wrapper.py")
TEMP = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp$")
TINY = {"batch": 2, "crop": 32, "synth_count": 4, "synth_size": 48, "eval_count": 1, "eval_size": 48, "ckpt_every": 2}
TRAIN = [
    "train", "brn", "--iters", "12", "--stage1-iters", "4", "--batch", "2", "--crop", "32", "--set", "synth_count=4",
    "--set", "synth_size=48", "--set", "eval_count=1", "--set", "eval_size=48", "--set", "ckpt_every=2", "--no-progress",
]


class Zoo:
    """Start `zoo ...` through the wrapper (umask 022, one thread), optionally paused; kill it there."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.writes = tmp_path / "writes.log"
        self.count = 0

    def start(self, args: list[str], pause: str | None = None) -> tuple[subprocess.Popen, Path, Path]:
        self.count += 1
        mark, out = self.tmp / f"paused-{self.count}", self.tmp / f"out-{self.count}.log"
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO), "ZOO_TEST_WRITES": str(self.writes)}
        env.pop("ZOO_TEST_PAUSE", None)
        if pause is not None:
            env.update(ZOO_TEST_PAUSE=pause, ZOO_TEST_MARK=str(mark))
        with out.open("w") as handle:
            proc = subprocess.Popen([sys.executable, str(WRAPPER), *args], env=env, stdout=handle, stderr=subprocess.STDOUT, umask=0o022)
        return proc, mark, out

    def kill_at(self, args: list[str], pause: str) -> None:
        self.kill_when_paused(*self.start(args, pause), pause)

    def kill_when_paused(self, proc: subprocess.Popen, mark: Path, out: Path, pause: str, timeout: float = 300) -> None:
        args = proc.args[2:4]  # type: ignore[index]
        deadline = time.time() + timeout
        while not mark.exists():
            if proc.poll() is not None:
                pytest.fail(f"zoo {' '.join(args)} ended (exit {proc.returncode}) before pausing at {pause}:\n{out.read_text()}")
            if time.time() > deadline:
                proc.kill()
                pytest.fail(f"zoo never paused at {pause}:\n{out.read_text()}")
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL

    def run(self, args: list[str], timeout: float = 600) -> str:
        proc, _, out = self.start(args)
        assert proc.wait(timeout=timeout) == 0, out.read_text()
        return out.read_text()

    def versions(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = defaultdict(set)
        for line in self.writes.read_text().splitlines():
            name, digest = line.split()
            found[name].add(digest)
        return found


def check_complete(folder: Path, zoo: Zoo) -> dict[str, Path]:
    """Every file of `folder` is a complete version the atomic writer installed, loads, and is 0644."""
    versions = zoo.versions()
    files = {}
    for path in sorted(folder.iterdir()):
        assert path.stat().st_mode & 0o777 == 0o644, f"{path}: mode {oct(path.stat().st_mode & 0o777)} under umask 022"
        if path.name.startswith("events.out.tfevents."):
            continue
        if path.name.startswith("."):
            assert TEMP.match(path.name), f"{path}: a stray hidden file"
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest in versions[path.name], f"{path} is not a complete version of {path.name}"
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".safetensors":
            load_file(str(path))
        elif path.suffix == ".pt":
            torch.load(path, map_location="cpu", weights_only=True)
        elif path.suffix == ".csv":
            pd.read_csv(path)
        files[path.name] = path
    return files


def steps(run: Path) -> tuple[int, int]:
    """(step of train_state.pt, step of config.json)."""
    state = torch.load(run / "train_state.pt", map_location="cpu", weights_only=True)
    return int(state["step"]), int(json.loads((run / "config.json").read_text())["run"]["step"])


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if TEMP.match(p.name))


def test_train_killed_anywhere_resumes_bit_identical(tmp_path: Path) -> None:
    zoo = Zoo(tmp_path)
    run = tmp_path / "killed"
    resume = ["train", "brn", "--resume", str(run), "--no-progress"]

    started = zoo.start([*TRAIN, "--no-evaluate", "--out", str(run)], "step::5")  # step 5 done in memory only
    # Meanwhile, the same run uninterrupted, in this process (the CLI's config: --set values are strings).
    cfg = TrainConfig("brn", iters=12, stage1_iters=4, batch=2, crop=32).with_settings(
        ["synth_count=4", "synth_size=48", "eval_count=1", "eval_size=48", "ckpt_every=2"]
    )
    whole = Trainer(cfg, tmp_path / "whole")
    whole.fit()
    zoo.kill_when_paused(*started, "step::5")
    check_complete(run, zoo)
    assert steps(run) == (4, 4)

    zoo.kill_at([*resume, "--no-evaluate"], "write:train_state.pt:2")  # state of step 8 half-written
    check_complete(run, zoo)
    assert steps(run) == (6, 6)
    assert [name.startswith(".train_state.pt.") for name in temps(run)] == [True]

    zoo.kill_at([*resume, "--no-evaluate"], "after:train_state.pt:1")  # step 8's state in place, its model not yet
    files = check_complete(run, zoo)
    assert temps(run) == []  # the killed write's leftover went when the run resumed
    assert steps(run) == (8, 6)
    assert load_file(str(files["model.safetensors"])).keys()

    zoo.kill_at(resume, "eval::2")  # trained to the end, killed while scoring the second test set
    check_complete(run, zoo)
    assert steps(run) == (12, 12) and not (run / "metrics.json").exists()
    assert json.loads((run / "config.json").read_text())["run"]["complete"] is True

    out = zoo.run(resume)
    files = check_complete(run, zoo)
    assert "metrics.json" in files and "PSNR/SSIM protocol" in out
    a = torch.load(whole.run_dir / "train_state.pt", map_location="cpu", weights_only=True)
    b = torch.load(run / "train_state.pt", map_location="cpu", weights_only=True)
    assert a["step"] == b["step"] == 12 and a["model"].keys() == b["model"].keys()
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    for name in ("model.safetensors", "encoder.safetensors"):
        assert (whole.run_dir / name).read_bytes() == (run / name).read_bytes(), name


def test_bench_killed_mid_append_and_mid_cell_resumes(tmp_path: Path) -> None:
    zoo = Zoo(tmp_path)
    matrix = tmp_path / "matrix.yaml"
    spec = {"name": "k", "backbones": ["brn"], "methods": ["baseline", "coic"], "data": ["synthmix"], "seeds": [0],
            "settings": {"iters": 4, "stage1_iters": 2, **TINY}}
    matrix.write_text(yaml.safe_dump(spec))
    runs, store = tmp_path / "runs", tmp_path / "results"
    bench = ["bench", str(matrix), "--runs", str(runs), "--store", str(store), "--no-progress"]
    first, second = runs / "brn-tiny-synthmix-baseline-s0", runs / "brn-tiny-synthmix-coic-s0"

    zoo.kill_at(bench, "write:part-:1")  # cell 1 trained and evaluated; its rows half-written into the store
    assert list(store.glob("part-*.csv")) == [] and len(temps(store)) == 1
    assert ResultsStore(store).load().empty
    assert "metrics.json" in check_complete(first, zoo)

    zoo.kill_at([*bench, "--resume-cells"], "step::3")  # cell 1's rows ingested; cell 2 killed mid-training
    (part,) = store.glob("part-*.csv")
    check_complete(store, zoo)
    assert set(pd.read_csv(part)["run"]) == {first.name}
    check_complete(second, zoo)
    assert steps(second) == (2, 2)

    report = run_bench(load_matrix(matrix), runs, store, resume=True)
    assert [r.status for r in report.results] == [STORED, RESUMED]
    table = ResultsStore(store).load()
    assert len(table) == len(pd.concat([pd.read_csv(p) for p in store.glob("part-*.csv")])) == 2 * 8 * 4
    assert not table.duplicated(subset=list(KEY)).any()
    assert len(temps(store)) == 1  # a shared store keeps other writers' temporary files; they are never read

    cell = load_matrix(matrix).cells()[1]
    whole = Trainer(cell.cfg, tmp_path / "whole")
    whole.fit()
    resumed = torch.load(second / "train_state.pt", map_location="cpu", weights_only=True)["model"]
    for key, value in whole.model.state_dict().items():
        assert torch.equal(value, resumed[key]), key
