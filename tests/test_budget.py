"""CoIC − baseline against the training budget: paired learning curves, their intervals, the table at
any recorded budget (`--at-iteration`) and the figure (`--plot`), checked against direct formulas."""

from __future__ import annotations

import io
import math
import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tests.cli_runner import run_cli
from zoo.errors import ZooError
from zoo.evaluation.records import curve_rows, make_row
from zoo.results.budget import gain_curves, rows_at
from zoo.results.store import ResultsStore

SEEDS = (0, 1, 2, 3)
STEPS = (200, 400, 600)
DATASETS = ("light", "heavy")


def _psnr(backbone: str, method: str, dataset: str, seed: int, step: int) -> float:
    """Known values with a per-seed spread, so the intervals are not degenerate."""
    gain = {"brn": 0.05, "rcdnet": -0.02}[backbone] * step / 200 if method == "coic" else 0.0
    return 20.0 + step / 100 + (dataset == "heavy") * -5 + gain + 0.03 * ((seed * 7 + step // 200 + (method == "coic")) % 5)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    results = ResultsStore(tmp_path / "budget")
    for backbone in ("brn", "rcdnet"):
        for method in ("baseline", "coic"):
            for seed in SEEDS:
                rows = [make_row(run=f"{backbone}-{method}-s{seed}", backbone=backbone, config="tiny", method=method,
                                 train_data="synthmix", eval_dataset=d, metric="psnr", protocol="y-matlab",
                                 value=_psnr(backbone, method, d, seed, STEPS[-1]), iterations=STEPS[-1], seed=seed,
                                 source="measured") for d in DATASETS]
                curve = [{"step": s, "psnr": {d: _psnr(backbone, method, d, seed, s) for d in DATASETS}} for s in STEPS]
                results.append(rows, curve=curve_rows(rows, curve))
    return results.root


def _direct(backbone: str, dataset: str, step: int, seeds: tuple[int, ...] = SEEDS) -> tuple[float, float, float]:
    """Mean and 95% t-interval of the paired difference, written out independently of zoo.results.stats."""
    sets = DATASETS if dataset == "average" else (dataset,)
    diffs = np.array([np.mean([_psnr(backbone, "coic", d, s, step) - _psnr(backbone, "baseline", d, s, step) for d in sets]) for s in seeds])
    half = stats.t.ppf(0.975, len(diffs) - 1) * diffs.std(ddof=1) / math.sqrt(len(diffs))
    return float(diffs.mean()), float(diffs.mean() - half), float(diffs.mean() + half)


def test_gain_curves_are_the_paired_t_intervals(store: Path) -> None:
    gains = gain_curves(ResultsStore(store).load_curves())
    assert len(gains) == 2 * (len(DATASETS) + 1) * len(STEPS)
    for row in gains.itertuples():
        mean, low, high = _direct(row.backbone, row.eval_dataset, row.step)
        # float64 sums of a handful of values: agreement to 1e-9 dB leaves room for summation order only
        assert row.n == len(SEEDS)
        assert (row.mean, row.low, row.high) == pytest.approx((mean, low, high), abs=1e-9)


def test_average_needs_every_test_set_paired(store: Path) -> None:
    curves = ResultsStore(store).load_curves()
    drop = (curves["method"] == "coic") & (curves["seed"] == 3) & (curves["eval_dataset"] == "heavy") & (curves["step"] == 600)
    gains = gain_curves(curves[~drop])
    brn = gains[(gains["backbone"] == "brn") & (gains["step"] == 600)].set_index("eval_dataset")
    assert brn.loc["light", "n"] == 4 and brn.loc["heavy", "n"] == 3 and brn.loc["average", "n"] == 3


def _csv(out: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(out))


def test_table_at_a_budget_gives_the_figure_interval(store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["leaderboard", "--store", str(store), "--at-iteration", "400", "--format", "csv"], monkeypatch, capsys)
    assert code == 0, err
    table = _csv(out)
    assert set(table["iterations"]) == {400}
    gain = table[(table["method"] == "coic-baseline") & (table["backbone"] == "brn")].set_index("eval_dataset")
    for dataset in (*DATASETS, "average"):
        mean, low, high = _direct("brn", dataset, 400)
        # the CSV prints 6 significant digits
        assert (gain.loc[dataset, "mean"], gain.loc[dataset, "ci_low"], gain.loc[dataset, "ci_high"]) == pytest.approx((mean, low, high), abs=1e-4)
        assert gain.loc[dataset, "n"] == len(SEEDS)


def test_unrecorded_budget_names_the_recorded_ones(store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["leaderboard", "--store", str(store), "--at-iteration", "300"], monkeypatch, capsys)
    assert code == 2 and "--at-iteration 300" in err and "200, 400, 600" in err and "Traceback" not in err
    with pytest.raises(ZooError, match="none \\(train with --eval-every N\\)"):
        rows_at(ResultsStore(store).load_curves().iloc[0:0], 200)


def test_plot_draws_the_gain_curves(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import zoo.results.plot as plots

    drawn: list[int] = []
    real = plots.plot_gain_curves
    monkeypatch.setattr(plots, "plot_gain_curves", lambda gains, path: drawn.append(len(gains)) or real(gains, path))
    code, _, err = run_cli(["leaderboard", "--store", str(store), "--format", "csv", "--plot", str(tmp_path / "gain.png")], monkeypatch, capsys)
    assert code == 0 and drawn == [2 * 3 * 3], err
    assert (tmp_path / "gain.png").stat().st_size > 5000


def test_page_adds_the_budget_section(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`--budget-store` puts another store's figure and boards at the asked budgets on the page, with the
    same CoIC − baseline cells as `--at-iteration` prints for that store."""
    page = tmp_path / "index.html"
    code, _, err = run_cli(["leaderboard", "--store", str(store), "--out", str(page), "--budget-store", str(store),
                            "--budget-at", "200", "--budget-at", "600"], monkeypatch, capsys)
    assert code == 0, err
    text = page.read_text()
    start = text.index("When does CoIC pay off?")
    section = text[start:text.index("<h2>", start)]  # up to the next part of the page
    assert section.count("<h3>From the learning curves:") == 2 and "200 iterations" in section and "600 iterations" in section
    assert "400 iterations" not in section and section.count("data:image/png;base64,") == 1
    assert f"--budget-store {store} --budget-at 200 --budget-at 600" in text  # the regenerating command
    code, md, err = run_cli(["leaderboard", "--store", str(store), "--at-iteration", "600", "--format", "md"], monkeypatch, capsys)
    assert code == 0, err
    gain_row = next(line for line in md.splitlines() if line.startswith("| brn | tiny | CoIC − baseline"))
    average = gain_row.rstrip(" |").rsplit("| ", 1)[1]
    mean, low, high = _direct("brn", "average", 600)
    assert average.startswith(f"{mean:+.2f} [{low:+.2f}, {high:+.2f}]")
    assert average in section[section.index("600 iterations"):]


@pytest.mark.parametrize("options", [
    ["--at-iteration", "400", "--format", "md"],
    ["--view", "power", "--at-iteration", "400", "--format", "md"],
    ["--view", "power", "--seed", "0", "--seed", "2", "--seed", "3", "--format", "md"],
    ["--at-iteration", "600", "--seed", "1", "--seed", "3", "--format", "md"],
    ["--format", "html", "--budget-store", "{store}", "--budget-at", "200", "--budget-at", "600"],
])
def test_the_recorded_command_reruns_to_the_same_file(
    store: Path, tmp_path: Path, options: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """A generated file names the command that made it, budget options included: run as written, that
    command writes the same bytes (a missing option would write another table or drop the section)."""
    out = tmp_path / "board.out"
    arguments = ["leaderboard", "--store", str(store), *(o.format(store=store) for o in options), "--out", str(out)]
    code, _, err = run_cli(arguments, monkeypatch, capsys)
    assert code == 0, err
    first = out.read_bytes()
    recorded = first.decode().split("Generated by `zoo ", 1)[1].split("`", 1)[0]
    out.unlink()
    code, _, err = run_cli(shlex.split(recorded), monkeypatch, capsys)
    assert code == 0, err
    day = re.compile(rb" on \d{4}-\d{2}-\d{2} \(UTC\)")  # the stamp's day: two runs may straddle midnight
    assert day.sub(b"", out.read_bytes()) == day.sub(b"", first)


@pytest.mark.parametrize(("arguments", "message"), [
    (["--budget-at", "200"], "add --budget-store STORE"),
    (["--budget-store", "{store}", "--format", "md"], "adds a section to the HTML page"),
    (["--budget-store", "{store}", "--format", "html", "--budget-at", "300"], "--budget-at 300: no run"),
    (["--budget-store", "{empty}", "--format", "html"], "no CoIC and baseline runs there share a seed"),
])
def test_budget_options_refuse_what_they_cannot_show(store: Path, tmp_path: Path, arguments: list[str], message: str,
                                                     monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    filled = [a.format(store=store, empty=tmp_path / "empty") for a in arguments]
    code, _, err = run_cli(["leaderboard", "--store", str(store), *filled], monkeypatch, capsys)
    assert code == 2 and message in err and "Traceback" not in err, err


def test_power_view_sizes_each_backbone_from_its_per_seed_spread(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """`--view power` at a budget: the board's average CoIC − baseline and interval, and the smallest
    seed count whose t-interval half-width from that per-seed std is at most 0.15 dB."""
    code, out, err = run_cli(["leaderboard", "--view", "power", "--store", str(store), "--at-iteration", "400", "--format", "csv"],
                             monkeypatch, capsys)
    assert code == 0, err
    table = _csv(out).set_index("backbone")
    assert sorted(table.index) == ["brn", "rcdnet"] and set(table["iterations"]) == {400} and set(table["seeds"]) == {len(SEEDS)}
    for backbone in ("brn", "rcdnet"):
        mean, low, high = _direct(backbone, "average", 400)
        row = table.loc[backbone]
        # the CSV prints 6 significant digits
        assert (row["mean"], row["half_width"]) == pytest.approx((mean, (high - low) / 2), abs=1e-4)
        std = (high - low) / 2 * math.sqrt(len(SEEDS)) / stats.t.ppf(0.975, len(SEEDS) - 1)
        assert row["std"] == pytest.approx(std, rel=1e-4)
        needed = int(row["seeds_needed"])
        half = [stats.t.ppf(0.975, n - 1) * std / math.sqrt(n) for n in (needed - 1, needed)]  # with n - 1 and n seeds
        # 1e-4 relative: std comes back through the CSV's 6 significant digits
        assert half[1] <= 0.15 * (1 + 1e-4) and (needed == 2 or half[0] > 0.15 * (1 - 1e-4))


@pytest.mark.parametrize(("arguments", "message"), [
    (["--format", "html"], "--view power: --format 'html' is not available; use table, md, csv"),
    (["--at-iteration", "300"], "--at-iteration 300: no run"),
    (["--backbone", "idt"], "idt"),
    (["--protocol", "rgb"], "rgb"),
    (["--seed", "0", "--seed", "7"], "--seed 7: no run of the results store has that seed; it has: 0, 1, 2, 3"),
])
def test_power_view_refuses_what_it_cannot_size(store: Path, arguments: list[str], message: str,
                                                monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["leaderboard", "--view", "power", "--store", str(store), *arguments], monkeypatch, capsys)
    assert code == 2 and message in err and "Traceback" not in err, err


def test_power_view_of_some_seeds_is_their_interval(store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`--seed` keeps those runs: the budget planned from the first seeds is reproduced from today's store."""
    first = (0, 1, 2)
    options = [option for seed in first for option in ("--seed", str(seed))]
    code, out, err = run_cli(["leaderboard", "--view", "power", "--store", str(store), "--at-iteration", "400", *options, "--format", "csv"],
                             monkeypatch, capsys)
    assert code == 0, err
    table = _csv(out).set_index("backbone")
    assert set(table["seeds"]) == {len(first)}
    for backbone in ("brn", "rcdnet"):
        mean, low, high = _direct(backbone, "average", 400, first)
        # the CSV prints 6 significant digits
        assert (table.loc[backbone, "mean"], table.loc[backbone, "half_width"]) == pytest.approx((mean, (high - low) / 2), abs=1e-4)
        assert (mean, low, high) != pytest.approx(_direct(backbone, "average", 400), abs=1e-3)  # the seeds left out matter


def test_power_view_sizes_the_protocol_asked_for(store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The same runs scored under a second protocol, with a gain 100 times larger: `--protocol` keeps the power
    view to one protocol's numbers (it used to be ignored) and the recorded command keeps the option."""
    results = ResultsStore(store)
    for method in ("baseline", "coic"):
        for seed in SEEDS:
            value = {d: _psnr("brn", method, d, seed, STEPS[-1]) + 100 * (_psnr("brn", method, d, seed, STEPS[-1]) - 20) for d in DATASETS}
            results.append([make_row(run=f"brn-{method}-s{seed}-rgb", backbone="brn", config="tiny", method=method, train_data="synthmix",
                                     eval_dataset=d, metric="psnr", protocol="rgb", value=value[d], iterations=STEPS[-1], seed=seed,
                                     source="measured") for d in DATASETS])
    shown = {}
    for protocol in ("y-matlab", "rgb"):
        code, out, err = run_cli(["leaderboard", "--view", "power", "--store", str(store), "--backbone", "brn", "--protocol", protocol,
                                  "--format", "csv"], monkeypatch, capsys)
        assert code == 0, err
        shown[protocol] = _csv(out)
    assert len(shown["y-matlab"]) == len(shown["rgb"]) == 1
    assert shown["y-matlab"]["mean"].iloc[0] == pytest.approx(_direct("brn", "average", STEPS[-1])[0], abs=1e-4)  # 6 digits in the CSV
    assert abs(shown["rgb"]["mean"].iloc[0]) > 50 * abs(shown["y-matlab"]["mean"].iloc[0])
    code, md, err = run_cli(["leaderboard", "--view", "power", "--store", str(store), "--protocol", "rgb", "--format", "md"], monkeypatch, capsys)
    assert code == 0 and "--protocol rgb" in md.split("Generated by", 1)[1].split("`")[1], err


def test_power_view_tells_an_unsized_backbone_from_an_unaffordable_one() -> None:
    """One seed has no spread, so its budget is unknown ('–'); a spread no 1000 seeds can narrow says so."""
    from zoo.results.power import render_power

    table = pd.DataFrame([
        {"backbone": "brn", "config": "tiny", "iterations": 200, "seeds": 1, "mean": 0.1, "std": float("nan"),
         "half_width": float("nan"), "seeds_needed": None},
        {"backbone": "idt", "config": "tiny", "iterations": 200, "seeds": 3, "mean": 0.1, "std": 50.0,
         "half_width": 124.0, "seeds_needed": None},
    ])
    rows = [line for line in render_power(table, "md").splitlines() if line.startswith("| ")][1:]
    assert rows[0].endswith("| – |") and rows[1].endswith("| > 1000 |")
