"""Every numeric training setting has a range, checked before any work starts (issue 25).

A value outside it is refused in one line naming the option as the user wrote it and the allowed
range, before the trainer builds anything or a run folder exists: `--ema 1.5` used to train with a
growing average, `--set eval_tile=-8` was refused only once the whole training had run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_runner import run_cli
from zoo.bench import matrix_from_dict
from zoo.errors import ZooError
from zoo.training.config import TrainConfig
from zoo.training.ranges import RANGES

CASES = [
    ({"ema": 1.5}, "--ema 1.5 must be in [0, 1) (0 = off)"),
    ({"ema": -0.1}, "--ema -0.1 must be in [0, 1) (0 = off)"),
    ({"eval_tile": -8}, "--set eval_tile=-8 must be none (the backbone's official tiling), 0 (whole images) or at least 16"),
    ({"eval_tile": 8}, "--set eval_tile=8 must be none"),
    ({"lr": 0.0}, "--set lr=0 must be greater than 0"),
    ({"lr": float("nan")}, "--set lr=nan must be greater than 0"),
    ({"iters": 0}, "--iters 0 must be at least 1"),
    ({"batch": 0}, "--batch 0 must be at least 1"),
    ({"crop": 4}, "--crop 4 must be at least 8"),
    ({"stage1_iters": -1}, "--stage1-iters -1 must be at least 0"),
    ({"momentum": 1.5}, "--set momentum=1.5 must be in [0, 1]"),
    ({"temperature": 0.0}, "--set temperature=0 must be greater than 0"),
    ({"contrast_weight": -0.2}, "--set contrast_weight=-0.2 must be at least 0 (0 = no contrastive loss)"),
    ({"grad_clip": -1.0}, "--set grad_clip=-1 must be at least 0 (0 = off)"),
    ({"eval_every": -5}, "--eval-every -5 must be at least 0 (0 = off)"),
    ({"ckpt_every": 0}, "--set ckpt_every=0 must be at least 1"),
    ({"log_every": 0}, "--set log_every=0 must be at least 1"),
    ({"n_neg": 0}, "--set n_neg=0 must be at least 1"),
    ({"gamma": 2.0}, "--set gamma=2 must be in (0, 1]"),
    ({"weight_decay": -1e-4}, "--set weight_decay=-0.0001 must be at least 0"),
    ({"milestones": (0.9, 0.5)}, "--set milestones=[0.9, 0.5] must be ascending fractions of the run in [0, 1]"),
    ({"explode_guard": -1.0}, "--set explode_guard=-1 must be at least 0 (0 = off)"),
    ({"eval_size": 8}, "--set eval_size=8 must be at least 16"),
    ({"seed": -1}, "--seed -1 must be at least 0"),
]


@pytest.mark.parametrize(("changes", "message"), CASES, ids=[next(iter(c)) + "=" + str(next(iter(c.values()))) for c, _ in CASES])
def test_out_of_range_is_refused_naming_option_and_range(changes: dict, message: str) -> None:
    with pytest.raises(ZooError) as info:
        TrainConfig("brn", **changes).resolved()
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_every_numeric_setting_has_a_range() -> None:
    numeric = {name for name, value in TrainConfig("brn").resolved().as_dict().items()
               if isinstance(value, (int, float, list)) and not isinstance(value, bool)}
    numeric |= {"eval_tile", "coic_weight_decay"}  # None by default
    assert numeric <= set(RANGES), sorted(numeric - set(RANGES))


def test_edges_are_accepted() -> None:
    cfg = TrainConfig("brn", ema=0.0, eval_tile=0, grad_clip=0.0, contrast_weight=0.0, eval_every=0, momentum=1.0).resolved()
    assert cfg.eval_tile == 0
    assert TrainConfig("brn", ema=0.999, eval_tile=16).resolved().ema == 0.999


@pytest.mark.parametrize(("args", "message"), [
    (["--ema", "1.5"], "--ema 1.5 must be in [0, 1) (0 = off)"),
    (["--set", "eval_tile=-8"], "--set eval_tile=-8 must be none"),
    (["--set", "lr=-1e-3"], "--set lr=-0.001 must be greater than 0"),
])
def test_cli_refuses_before_a_run_folder_exists(args: list[str], message: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["train", "brn", *args, "--out", str(tmp_path / "run"), "--no-progress"], monkeypatch, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in out + err
    assert not (tmp_path / "run").exists()


def test_matrix_settings_are_checked_when_the_matrix_loads() -> None:
    spec = {"backbones": ["brn"], "methods": ["coic"], "data": ["synthmix"], "seeds": [0], "settings": {"ema": 1.5}}
    with pytest.raises(ZooError, match=r"--ema 1\.5 must be in \[0, 1\)"):
        matrix_from_dict(spec)
