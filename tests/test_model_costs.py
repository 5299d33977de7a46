"""The cost columns: parameters, MACs, CPU time and peak memory per model, baseline and CoIC side by side."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch
from torch import nn

from tests.cli_runner import run_cli
from zoo.evaluation.complexity import count_macs, parameter_counts, peak_forward_bytes
from zoo.evaluation.records import make_row
from zoo.models.build import build_model
from zoo.results.costs import model_costs, render_model_costs, save_model_costs, stored_model_costs
from zoo.results.store import MODEL_COSTS_FILE, ResultsStore


class _Sixteen(nn.Module):
    """Holds the input, a 16x copy and a 16x product at once: 33 input-sizes at the peak."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = x.repeat(1, 1, 4, 4)
        b = a * 2
        return b.sum()


def test_peak_forward_memory_counts_what_is_held_at_once() -> None:
    image_bytes = 3 * 64 * 64 * 4
    peak = peak_forward_bytes(_Sixteen(), size=64)
    assert image_bytes * 33 <= peak <= image_bytes * 33 + 1024  # plus the few bytes of the scalar sum


def test_model_costs_side_by_side() -> None:
    table = pd.DataFrame({"backbone": ["brn", "brn"], "config": ["tiny", "tiny"]})
    costs = model_costs(table=table, size=32, repeats=1)
    row = costs.iloc[0]
    for method in ("baseline", "coic"):
        model = build_model("brn", coic=method == "coic", config="tiny").eval()
        assert row[f"params_{method}"] == parameter_counts(model)["params"]
        assert row[f"macs_{method}"] == count_macs(model, 32)
        assert row[f"cpu_ms_{method}"] > 0 and row[f"peak_mib_{method}"] > 0
    assert row["params_coic"] > row["params_baseline"] and len(costs) == 1
    md = render_model_costs(costs, "md")
    assert "| backbone | config | parameters: baseline | parameters: CoIC | GMACs: baseline | GMACs: CoIC |" in md
    assert f"| brn | tiny | {row['params_baseline']:,} | {row['params_coic']:,} |" in md
    assert "3 x 32 x 32" in md
    assert list(pd.read_csv(pd.io.common.StringIO(render_model_costs(costs, "csv"))).columns)[:2] == ["backbone", "config"]


def _one_run_store(root: Path) -> Path:
    ResultsStore(root).append([make_row(run="r", backbone="rcdnet", config="tiny", method="coic", train_data="synthmix",
                                        eval_dataset="light", metric="psnr", protocol="y-matlab", value=30.0, n_images=2,
                                        iterations=5, seed=0, source="measured")])
    return root


def test_model_costs_are_measured_once_then_read(tmp_path: Path, monkeypatch, capsys) -> None:
    """`--view model-cost` reads the store's model-costs.csv (so a regenerated table is the same file);
    only `--measure-costs` runs the models, and it stores what it measured."""
    store = _one_run_store(tmp_path / "store")
    view = ["leaderboard", "--store", str(store), "--view", "model-cost", "--format", "csv"]
    code, _, err = run_cli(view, monkeypatch, capsys)
    assert code == 2 and "has no stored model costs (model-costs.csv); measure them with --measure-costs" in err
    code, measured, err = run_cli([*view, "--measure-costs"], monkeypatch, capsys)
    assert code == 0 and (store / MODEL_COSTS_FILE).is_file() and "stored the measured costs" in err
    code, read, _ = run_cli(view, monkeypatch, capsys)
    assert code == 0 and read == measured  # read back, not measured again: CPU ms would differ
    stored = stored_model_costs(store)
    assert list(stored["backbone"]) == ["rcdnet"] and stored.loc[0, "params_coic"] > stored.loc[0, "params_baseline"]


def test_scores_with_costs_regenerate_byte_identical(tmp_path: Path, monkeypatch, capsys) -> None:
    store = _one_run_store(tmp_path / "store")
    save_model_costs(store, pd.DataFrame([{
        "backbone": "rcdnet", "config": "tiny", "size": 256, "threads": 2, "measured": "2026-12-03", "params_baseline": 15500,
        "params_coic": 348040, "macs_baseline": 1, "macs_coic": 2, "cpu_ms_baseline": 74.2, "cpu_ms_coic": 131.2,
        "peak_mib_baseline": 19.5, "peak_mib_coic": 24.8,
    }]))
    pages = []
    for _ in range(2):
        out = tmp_path / "board.md"
        code, _, _ = run_cli(["leaderboard", "--store", str(store), "--with-costs", "--out", str(out)], monkeypatch, capsys)
        assert code == 0
        pages.append(out.read_bytes())
    assert pages[0] == pages[1] and b"| rcdnet | tiny | 15,500 | 348,040 |" in pages[0] and b"measured on 2026-12-03" in pages[0]


def test_old_cost_spellings_still_work_with_a_note(tmp_path: Path, monkeypatch, capsys) -> None:
    store = _one_run_store(tmp_path / "store")
    code, out, err = run_cli(["leaderboard", "--store", str(store), "--cost", "--format", "csv"], monkeypatch, capsys)
    assert code == 0 and "rcdnet" in out and "--cost is deprecated" in err and "use --view run-cost" in err
    code, _, err = run_cli(["leaderboard", "--store", str(store), "--metric", "cost", "--format", "csv"], monkeypatch, capsys)
    assert code == 2 and "--metric cost is deprecated" in err and "has no stored model costs" in err
