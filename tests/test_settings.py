"""One settings parser for `zoo train --set` and a bench matrix's `settings:`, typed by TrainConfig."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_runner import run_cli
from zoo.bench import load_matrix, matrix_from_dict
from zoo.errors import ZooError
from zoo.training.config import TrainConfig

BASE = {"backbones": ["brn"], "methods": ["coic"], "data": ["synthmix"], "seeds": [0]}


def test_matrix_yaml_scientific_notation_is_a_float(tmp_path: Path) -> None:
    # YAML 1.1 (PyYAML) reads `2e-4` as the string '2e-4'; the matrix must still get the float.
    path = tmp_path / "m.yaml"
    path.write_text("backbones: [brn]\nmethods: [coic]\ndata: [synthmix]\nseeds: [0]\nsettings:\n  lr: 2e-4\n  iters: 30\n")
    cfg = load_matrix(path).cells()[0].cfg
    assert isinstance(cfg.lr, float) and cfg.lr == pytest.approx(2e-4)
    assert cfg.iters == 30 and isinstance(cfg.iters, int)


def test_set_and_matrix_agree() -> None:
    from_set = TrainConfig(backbone="brn").with_settings(["lr=2e-4", "milestones=[0.5,0.8]", "bf16=yes", "eval_tile=none"])
    from_yaml = TrainConfig(backbone="brn").with_settings({"lr": "2e-4", "milestones": [0.5, 0.8], "bf16": True, "eval_tile": None})
    assert from_set == from_yaml
    assert from_set.milestones == (0.5, 0.8) and from_set.precision == "bf16" and from_set.eval_tile is None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"lr": "fast"}, "lr: expected a number (or none), got 'fast'"),
        ({"iters": 2.5}, "iters: expected a whole number (or none), got 2.5"),
        ({"bf16": "maybe"}, "bf16: expected true or false, got 'maybe'"),
        ({"loss": 3}, "loss: expected text (or none), got 3"),
        ({"milestones": ["a"]}, "milestones: expected a list of numbers (or none)"),
    ],
)
def test_mistyped_matrix_setting_names_key_and_type(settings: dict, message: str) -> None:
    with pytest.raises(ZooError) as info:
        matrix_from_dict({**BASE, "settings": settings})
    assert message in str(info.value)


def test_mistyped_set_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["train", "brn", "--set", "lr=fast", "--out", str(tmp_path / "run"), "--no-progress"]
    code, out, err = run_cli(args, monkeypatch, capsys)
    assert code == 2
    assert "--set lr: expected a number (or none), got 'fast'" in err
    assert "Traceback" not in out + err
    assert not (tmp_path / "run").exists()
