"""The CLI speaks one vocabulary (the README's "CLI vocabulary" table): checked over every command typer
knows, so a new command or option that breaks a rule fails here, and every old spelling still works for
one release with a note naming the new one.

The deprecated spellings run for real where that is quick (`zoo derain` on a tiny photo, `zoo data synth`
of one pair, `zoo leaderboard` on a one-row store); where the command would train or analyse for minutes,
the library call it makes is replaced by one that records its arguments and stops, which is what the
spelling decides.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import typer
import yaml
from PIL import Image

import zoo
from tests.cli_runner import run_cli
from zoo.cli.app import app
from zoo.errors import ZooError
from zoo.evaluation.records import make_row
from zoo.models.checkpoint import save_model_dir
from zoo.results.costs import save_model_costs
from zoo.results.store import ResultsStore

PACKAGED = Path(zoo.__file__).parent / "models" / "assets" / "pretrained"
RUNS_A_MODEL = {
    "train", "evaluate", "bench", "derain", "analyze embeddings", "analyze rain-detail", "analyze temperature", "analyze cost",
}
CPU_BY_DESIGN = {  # they run models, on the CPU on purpose; the README's table says why
    "export": "the graph is checked with onnxruntime's CPU engine",
    "leaderboard": "--measure-costs measures CPU milliseconds",
}
RUNS_NONE = {"models", "info", "convert", "push", "pull", "score", "data synth", "data check", "data stats"}
MODEL_FIRST = {  # the model or run is the first argument
    "evaluate": "run_dir", "derain": "model", "export": "model", "push": "run_dir", "pull": "model_id",
    "analyze embeddings": "run", "analyze rain-detail": "run", "analyze temperature": "run", "analyze cost": "run",
}


def _commands() -> dict[str, Any]:
    """Every leaf command typer builds, by its name under `zoo` ("data synth" for a group's command)."""
    found: dict[str, Any] = {}

    def walk(command: Any, path: list[str]) -> None:
        children = getattr(command, "commands", None)
        if children:
            for name, child in children.items():
                walk(child, [*path, name])
        else:
            found[" ".join(path)] = command

    walk(typer.main.get_command(app), [])
    return found


def _options(command: Any) -> dict[str, list[str]]:
    """Each option's long name -> all its spellings (`--out` -> ["--out", "-o"])."""
    spellings: dict[str, list[str]] = {}
    for param in command.params:
        if param.param_type_name == "option":
            names = [*param.opts, *param.secondary_opts]
            spellings[next(n for n in names if n.startswith("--"))] = names
    return spellings


def test_every_command_is_classified_by_whether_it_runs_a_model() -> None:
    """A new command must say here whether it runs a model, so the --device rule reaches it."""
    assert set(_commands()) == RUNS_A_MODEL | set(CPU_BY_DESIGN) | RUNS_NONE


def test_every_out_has_the_short_form() -> None:
    missing = [name for name, command in _commands().items() if "--out" in _options(command) and "-o" not in _options(command)["--out"]]
    assert not missing, missing


def test_every_command_that_runs_a_model_takes_device() -> None:
    commands = _commands()
    assert all("--device" in _options(commands[name]) for name in RUNS_A_MODEL), [
        name for name in RUNS_A_MODEL if "--device" not in _options(commands[name])
    ]


def test_the_model_or_run_is_the_first_argument() -> None:
    commands = _commands()
    for name, argument in MODEL_FIRST.items():
        first = commands[name].params[0]
        assert first.param_type_name == "argument" and first.name == argument, name


def test_old_spellings_are_hidden_from_help() -> None:
    commands = _commands()
    for name, old in (("derain", "--model"), ("bench", "--resume"), ("train", "--bf16"), ("data synth", "--per-domain"),
                      ("analyze embeddings", "--per-dataset"), ("analyze temperature", "--per-dataset")):
        (param,) = [p for p in commands[name].params if old in getattr(p, "opts", [])]
        assert param.hidden, (name, old)


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (24, 20, 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A tiny baseline BRN model folder: config.json + model.safetensors."""
    folder = tmp_path / "model"
    save_model_dir(zoo.create_model("brn"), folder)
    return folder


def _deprecated(err: str, old: str, new: str) -> None:
    line = " ".join(err.split())
    assert f"note: {old} is deprecated" in line and f"use {new}" in line, err


def test_derain_takes_the_model_first(photo: Path, model_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """MODEL IMAGES...: a model folder as it is or as local-dir:, with no note; a missing path says so."""
    for name, model in (("plain", str(model_dir)), ("prefixed", f"local-dir:{model_dir}")):
        code, out, err = run_cli(["derain", model, str(photo), "-o", str(tmp_path / name), "--device", "cpu"], monkeypatch, capsys)
        assert code == 0 and not err and (tmp_path / name / "photo.png").is_file(), err
    code, _, err = run_cli(["derain", str(tmp_path / "no-such-run"), str(photo)], monkeypatch, capsys)
    assert code == 2 and "no-such-run: no such file or folder" in err and len(err.strip().splitlines()) == 1


def test_derain_model_option_still_works_with_a_note(photo: Path, model_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    code, _, err = run_cli(["derain", str(photo), "--model", f"local-dir:{model_dir}", "-o", str(tmp_path / "o")], monkeypatch, capsys)
    assert code == 0 and (tmp_path / "o" / "photo.png").is_file(), err
    _deprecated(err, "zoo derain IMAGES --model M", "zoo derain M IMAGES")


def test_derain_without_a_model_still_uses_the_default_with_a_note(photo: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    code, out, err = run_cli(["derain", str(photo), "-o", str(tmp_path / "o")], monkeypatch, capsys)
    assert code == 0 and (tmp_path / "o" / "photo.png").is_file(), err
    assert "no model given: using brn.official_baseline" in out
    _deprecated(err, f"zoo derain {photo}", f"zoo derain brn.official_baseline {photo}")


def test_bench_resume_is_resume_cells_with_a_note(tmp_path: Path, monkeypatch, capsys) -> None:
    import zoo.bench

    matrix = tmp_path / "matrix.yaml"
    matrix.write_text(yaml.safe_dump({"name": "t", "backbones": ["brn"], "methods": ["baseline"], "data": ["synthmix"], "seeds": [0]}))
    asked: list[bool] = []

    def run_bench(*args: Any, resume: bool = False, **kwargs: Any) -> SimpleNamespace:
        asked.append(resume)
        return SimpleNamespace(results=[], failed=[])

    monkeypatch.setattr(zoo.bench, "run_bench", run_bench)
    base = ["bench", str(matrix), "--store", str(tmp_path / "store"), "--runs", str(tmp_path / "runs"), "--device", "cpu", "--no-progress"]
    for flag in ("--resume-cells", "--resume"):
        code, _, err = run_cli([*base, flag], monkeypatch, capsys)
        assert code == 0, err
    assert asked == [True, True]
    _deprecated(err, "zoo bench --resume", "zoo bench --resume-cells")


def test_train_bf16_is_precision_bf16_with_a_note(tmp_path: Path, monkeypatch, capsys) -> None:
    import zoo.training

    seen: list[str] = []

    def trainer(cfg: Any, *args: Any, **kwargs: Any) -> None:
        """Stands in for the Trainer: records the precision it would train with and stops there."""
        seen.append(cfg.precision)
        raise ZooError("stopped before training")

    monkeypatch.setattr(zoo.training, "Trainer", trainer)
    code, _, err = run_cli(["train", "brn", "--bf16", "-o", str(tmp_path / "run"), "--device", "cpu"], monkeypatch, capsys)
    assert code == 2 and "stopped before training" in err and seen == ["bf16"]
    _deprecated(err, "zoo train --bf16", "zoo train --precision bf16")


def test_data_synth_per_domain_is_per_set_with_a_note(tmp_path: Path, monkeypatch, capsys) -> None:
    for flag, out in (("--per-set", tmp_path / "new"), ("--per-domain", tmp_path / "old")):
        code, _, err = run_cli(["data", "synth", str(out), flag, "1", "--size", "16", "--domains", "light,heavy"], monkeypatch, capsys)
        assert code == 0, err
        assert len(list((out / "test" / "rain").iterdir())) == 2  # one pair per domain
    _deprecated(err, "zoo data synth --per-domain", "zoo data synth --per-set")


@pytest.mark.parametrize("command", ["embeddings", "temperature"])
def test_analyze_per_dataset_is_per_set_and_device_reaches_the_model(command: str, tmp_path: Path, monkeypatch, capsys) -> None:
    """The count reaches the analysis under either name; the model is on --device when the analysis starts."""
    module = importlib.import_module(f"zoo.analysis.{command}")
    seen: list[tuple[int, str]] = []

    def analysis(source: Any, out: Path, data: Any, root: Any, count: int, *args: Any) -> None:
        seen.append((count, next(source.model.parameters()).device.type))
        raise ZooError("stopped before analysing")

    monkeypatch.setattr(module, f"analyze_{command}", analysis)
    run = str(PACKAGED / "brn.coic_synthmix")
    for flag in ("--per-set", "--per-dataset"):
        code, _, err = run_cli(["analyze", command, run, flag, "3", "-o", str(tmp_path), "--device", "cpu"], monkeypatch, capsys)
        assert code == 2 and "stopped before analysing" in err
    assert seen == [(3, "cpu"), (3, "cpu")]
    _deprecated(err, f"zoo analyze {command} --per-dataset", f"zoo analyze {command} --per-set")


def test_analyze_refuses_a_wrong_device_in_one_line(monkeypatch, capsys) -> None:
    code, _, err = run_cli(["analyze", "cost", str(PACKAGED / "brn.coic_synthmix"), "--device", "gpu0"], monkeypatch, capsys)
    assert code == 2 and "--device 'gpu0' is not a device" in err and len(err.strip().splitlines()) == 1


def test_pull_takes_the_repo_as_argument_or_option(monkeypatch, capsys) -> None:
    for args in (["pull", "brn.coic_synthmix"], ["pull", "--repo", "brn.coic_synthmix"], ["pull", "-r", "brn.coic_synthmix"]):
        code, out, err = run_cli(args, monkeypatch, capsys)
        assert code == 0 and "packaged with coic-zoo" in out, err
    for args, expected in ((["pull", "brn.coic_synthmix", "--repo", "brn.coic_synthmix"], "not both"), (["pull"], "zoo pull REPO")):
        code, _, err = run_cli(args, monkeypatch, capsys)
        assert code == 2 and expected in err and len(err.strip().splitlines()) == 1


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """One run's score and one model's stored costs: enough for every leaderboard view."""
    root = tmp_path / "store"
    ResultsStore(root).append([make_row(run="r", backbone="rcdnet", config="tiny", method="coic", train_data="synthmix",
                                        eval_dataset="light", metric="psnr", protocol="y-matlab", value=30.0, n_images=2,
                                        iterations=5, seed=0, source="measured")])
    save_model_costs(root, pd.DataFrame([{
        "backbone": "rcdnet", "config": "tiny", "size": 256, "threads": 2, "measured": "2026-12-03", "params_baseline": 15500,
        "params_coic": 348040, "macs_baseline": 1, "macs_coic": 2, "cpu_ms_baseline": 74.2, "cpu_ms_coic": 131.2,
        "peak_mib_baseline": 19.5, "peak_mib_coic": 24.8,
    }]))
    return root


@pytest.mark.parametrize(
    ("old", "new", "note"),
    [
        (["--cost"], ["--view", "run-cost"], ("--cost", "--view run-cost")),
        (["--metric", "cost"], ["--view", "model-cost"], ("--metric cost", "--view model-cost")),
        (["--costs"], ["--with-costs"], ("--costs", "--with-costs")),
    ],
)
def test_leaderboard_old_cost_spellings_give_the_new_output(old, new, note, store: Path, monkeypatch, capsys) -> None:
    outputs = []
    for args in (new, old):
        code, out, err = run_cli(["leaderboard", "--store", str(store), *args, "--format", "md"], monkeypatch, capsys)
        assert code == 0, err
        outputs.append(out)
    assert outputs[0] == outputs[1]
    _deprecated(err, *note)


@pytest.mark.parametrize(
    ("view", "option", "readable"),
    [
        ("run-cost", ["--dataset", "light"], "--store, --backbone, --format, --out, --skip-damaged"),
        ("run-cost", ["--at-iteration", "200"], "--store, --backbone, --format, --out, --skip-damaged"),
        ("model-cost", ["--metric", "ssim"], "--store, --backbone, --format, --out, --skip-damaged, --measure-costs"),
        ("model-cost", ["--plot", "gain.png"], "--store, --backbone, --format, --out, --skip-damaged, --measure-costs"),
        ("power", ["--dataset", "light"], "--store, --backbone, --format, --out, --skip-damaged, --at-iteration, --protocol, --seed"),
        ("power", ["--metric", "ssim"], "--store, --backbone, --format, --out, --skip-damaged, --at-iteration, --protocol, --seed"),
        ("run-cost", ["--seed", "0"], "--store, --backbone, --format, --out, --skip-damaged"),
        ("power", ["--source", "all"], "--store, --backbone, --format, --out, --skip-damaged, --at-iteration, --protocol, --seed"),
    ],
)
def test_a_view_refuses_a_board_option_it_would_ignore(view, option, readable, store: Path, monkeypatch, capsys) -> None:
    """`--view power --metric ssim` used to print the PSNR budget; an option a view does not read is now named."""
    code, out, err = run_cli(["leaderboard", "--store", str(store), "--view", view, *option], monkeypatch, capsys)
    assert code == 2 and out == "" and "Traceback" not in err, err
    assert f"--view {view} does not use {option[0]}; it reads {readable}" in err


def test_measuring_costs_needs_a_cost_table_to_show_them(store: Path, monkeypatch, capsys) -> None:
    """On the scores view --measure-costs fills the --with-costs table; alone it would measure for minutes and show nothing."""
    code, _, err = run_cli(["leaderboard", "--store", str(store), "--measure-costs"], monkeypatch, capsys)
    assert code == 2 and "add --with-costs" in err and "Traceback" not in err, err


@pytest.mark.parametrize(("source", "refused"), [("reported", "carry no training seed"), ("measured", "--seed 3: no run")])
def test_seed_filter_refuses_what_it_cannot_pick(source: str, refused: str, store: Path, monkeypatch, capsys) -> None:
    code, out, err = run_cli(["leaderboard", "--store", str(store), "--source", source, "--seed", "3"], monkeypatch, capsys)
    assert code == 2 and out == "" and refused in err and "Traceback" not in err, err


def test_seed_filter_keeps_those_runs_in_the_model_index(store: Path, monkeypatch, capsys) -> None:
    ResultsStore(store).append([make_row(run="r1", backbone="rcdnet", config="tiny", method="coic", train_data="synthmix",
                                         eval_dataset="light", metric="psnr", protocol="y-matlab", value=31.0, n_images=2,
                                         iterations=5, seed=1, source="measured")])
    shown = {}
    for seeds in ([], ["--seed", "1"]):
        code, out, err = run_cli(["leaderboard", "--store", str(store), "--format", "model-index", *seeds], monkeypatch, capsys)
        assert code == 0, err
        shown[len(seeds)] = out
    assert "value: 31.0" in shown[2] and "value: 30.5" not in shown[2] and "--seed 1" in shown[2]
    assert "value: 30.5" in shown[0] and "seeds: 2" in shown[0]  # both seeds' mean without the filter
