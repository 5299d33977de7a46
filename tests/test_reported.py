"""The field's published numbers: the committed rows follow the rules, the field tables never rank two
protocols in one column unmarked, and the model-index export carries the protocol in every metric name."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.cli_runner import run_cli
from zoo.errors import ZooError
from zoo.evaluation.protocols import PROTOCOLS
from zoo.evaluation.records import COLUMNS, REPORTED_COLUMNS, make_row
from zoo.results.boards import build
from zoo.results.field import PROTOCOL_MARKER, UNSTATED, field_tables, load_reported, problems, to_markdown
from zoo.results.html import to_page
from zoo.results.model_index import dataset_entry, model_index
from zoo.results.plot import _interval_bars
from zoo.results.store import ResultsStore

REPORTED = Path(__file__).resolve().parents[1] / "leaderboards" / "reported"


def _reported(tmp_path: Path, rows: list[dict]) -> Path:
    """A reported folder holding `rows` (each: backbone, protocol, psnr[, ssim, dataset]) as one CSV."""
    lines = []
    for i, row in enumerate(rows):
        for metric in ("psnr", "ssim"):
            if row.get(metric) is None:
                continue
            lines.append({
                **make_row(
                    run=f"paper{i}-{row['backbone']}", backbone=row["backbone"], config="paper", method=row.get("method", "baseline"),
                    train_data="per-dataset", eval_dataset=row.get("dataset", "rain200h"), metric=metric, protocol=row["protocol"],
                    value=row[metric], params=row.get("params"), source="reported", citation=f"Author{i} et al., Paper {i}, CVPR 2024",
                ),
                "venue": "CVPR", "year": 2024, "source_url": f"https://github.com/owner/repo{i}/blob/abc/README.md",
                "code_url": f"https://github.com/owner/repo{i}", "weights_licence": "MIT",
            })
    folder = tmp_path / "reported"
    folder.mkdir()
    pd.DataFrame(lines, columns=[*COLUMNS, *REPORTED_COLUMNS]).to_csv(folder / "field-test.csv", index=False)
    return folder


MIXED = [
    {"backbone": "a", "protocol": "y-matlab", "psnr": 32.0, "ssim": 0.93},
    {"backbone": "b", "protocol": "y-matlab", "psnr": 33.0, "ssim": 0.94, "params": 20_600_000},
    {"backbone": "c", "protocol": "y-matlab", "psnr": 31.0, "ssim": 0.92},
    {"backbone": "d", "protocol": "rcdnet-matlab", "psnr": 34.0, "ssim": 0.96},  # highest PSNR, other protocol
    {"backbone": "e", "protocol": UNSTATED, "psnr": 35.0, "ssim": 0.97},
    {"backbone": "f", "protocol": "y-matlab", "psnr": 30.0, "ssim": 0.91, "dataset": "did"},
]


# ---------------------------------------------------------------------------------------------
# The committed rows


def test_committed_reported_rows_follow_the_rules() -> None:
    """Every row names a protocol of ours or `unstated`, an https source URL, venue, year and citation."""
    table = load_reported(REPORTED)
    assert problems(table) == []
    assert set(table["protocol"]) <= {*PROTOCOLS, UNSTATED}
    entries = table.drop_duplicates(subset=["run", "eval_dataset"])
    assert len(entries) >= 40, "the issue asks for at least 40 method x dataset rows"
    assert table["source_url"].nunique() >= 10, "from at least 10 sources"
    assert pd.to_numeric(table["year"]).between(2015, 2030).all()


def test_each_committed_number_is_one_row() -> None:
    """No two rows give one (source, method, test set, metric, protocol) two values."""
    table = load_reported(REPORTED)
    key = ["run", "backbone", "method", "train_data", "eval_dataset", "metric", "protocol"]
    assert not table.duplicated(subset=key).any()
    values = pd.to_numeric(table["value"])
    psnr, ssim = values[table["metric"] == "psnr"], values[table["metric"] == "ssim"]
    assert psnr.between(15, 60).all() and ssim.between(0.5, 1.0).all()


def test_problems_name_the_row_and_what_is_wrong(tmp_path: Path) -> None:
    folder = _reported(tmp_path, [{"backbone": "a", "protocol": "matlab-ish", "psnr": 30.0}])
    table = load_reported(folder)
    table.loc[0, "source_url"] = "github.com/x"
    found = problems(table)
    assert any("paper0-a rain200h psnr: protocol 'matlab-ish' is neither one of ours" in line for line in found)
    assert any("source_url 'github.com/x' is not an https:// address" in line for line in found)


# ---------------------------------------------------------------------------------------------
# Ranking within protocol


def test_field_table_ranks_only_within_a_protocol(tmp_path: Path) -> None:
    table = load_reported(_reported(tmp_path, MIXED))
    (rain200h,) = field_tables(table, ["rain200h"])
    rows = rain200h.rows
    assert rain200h.main_protocol == "y-matlab"  # most rows
    assert list(rows["method"]) == ["b", "a", "c", "d", "e"]  # the main protocol by PSNR, then the others
    assert list(rows["rank"].astype("object").where(rows["rank"].notna(), None)) == [1, 2, 3, 1, None]
    assert list(rows["marked"]) == [False, False, False, True, True]
    text = to_markdown([rain200h])
    assert f"| 1{PROTOCOL_MARKER} | d | 34.00 | 0.9600 | rcdnet-matlab |" in text
    assert f"| –{PROTOCOL_MARKER} | e | 35.00 | 0.9700 | {UNSTATED} |" in text
    assert "| 1 | b | 33.00 | 0.9400 | y-matlab | per-dataset | 20.60M | CVPR 2024 |" in text
    assert "not comparable with the unmarked rows" in text


def test_one_protocol_needs_no_marker(tmp_path: Path) -> None:
    table = load_reported(_reported(tmp_path, MIXED[:3]))
    (only,) = field_tables(table)
    assert not only.rows["marked"].any() and PROTOCOL_MARKER not in to_markdown([only])


def test_unknown_test_set_is_named(tmp_path: Path) -> None:
    table = load_reported(_reported(tmp_path, MIXED))
    with pytest.raises(ZooError, match=r"no reported numbers on test set 'rain999'; reported test sets: rain200h, did"):
        field_tables(table, ["rain999"])


def test_cli_source_reported_dataset(monkeypatch, capsys, tmp_path: Path) -> None:
    folder = _reported(tmp_path, MIXED)
    args = ["leaderboard", "--source", "reported", "--reported", str(folder), "--dataset", "rain200h", "--format", "md"]
    code, out, _ = run_cli(args, monkeypatch, capsys)
    assert code == 0 and "## rain200h" in out and "## did" not in out and PROTOCOL_MARKER in out
    assert "Generated by `zoo leaderboard --source reported --reported" in out
    code, out, _ = run_cli([*args[:-2], "--format", "csv"], monkeypatch, capsys)
    csv = pd.read_csv(__import__("io").StringIO(out))
    assert code == 0 and list(csv["method"]) == ["b", "a", "c", "d", "e"]


def test_committed_rain200h_lists_every_source() -> None:
    table = load_reported(REPORTED)
    (rain200h,) = field_tables(table, ["rain200h"])
    assert set(rain200h.rows["protocol"]) >= {"y-matlab", "coic-paper"}
    ranked = rain200h.rows[~rain200h.rows["marked"]]
    assert (ranked["protocol"] == rain200h.main_protocol).all()


# ---------------------------------------------------------------------------------------------
# model-index


def test_model_index_one_entry_per_model_protocol_in_metric_names(tmp_path: Path) -> None:
    table = load_reported(_reported(tmp_path, MIXED))
    entries = model_index(table)
    assert len(entries) == len(MIXED)
    d = next(e for e in entries if e["name"].startswith("d "))
    (result,) = d["results"]
    assert result["dataset"] == {"type": "rain200h", "name": "Rain200H", "split": "test"}
    assert result["task"]["type"] == "image-to-image"
    assert [(m["type"], m["name"], m["value"]) for m in result["metrics"]] == [
        ("psnr", "PSNR (rcdnet-matlab)", 34.0), ("ssim", "SSIM (rcdnet-matlab)", 0.96),
    ]
    assert result["source"]["url"] == "https://github.com/owner/repo3/blob/abc/README.md"


def test_model_index_measured_rows_are_seed_means(tmp_path: Path) -> None:
    rows = [
        make_row(run=f"brn-s{seed}", backbone="brn", config="tiny", method="coic", train_data="synthmix", eval_dataset="heavy",
                 metric="psnr", protocol="y-matlab", value=20.0 + seed, iterations=200, seed=seed, source="measured")
        for seed in range(3)
    ]
    ResultsStore(tmp_path / "store").append(rows)
    entries = model_index(ResultsStore(tmp_path / "store").load())
    (entry,) = entries
    assert entry["name"] == "brn + CoIC (tiny, trained on synthmix, 200 iterations, measured)"
    (metric,) = entry["results"][0]["metrics"]
    assert metric["value"] == pytest.approx(21.0) and metric["args"] == {"seeds": 3} and metric["name"] == "PSNR (y-matlab)"
    # synthmix's domains are procedural: "heavy" (or "ddn") must not read as a real dataset
    assert entry["results"][0]["dataset"] == {"type": "synthmix/heavy", "name": "synthmix heavy (procedural)", "split": "test"}


def test_model_index_tells_the_two_ddns_apart() -> None:
    """`ddn` names synthmix's procedural domain for a run trained on synthmix and DDN-Data otherwise; a
    real test set scored by a synthmix-trained run stays the real one."""
    assert dataset_entry("ddn", "synthmix")["type"] == "synthmix/ddn"
    assert dataset_entry("ddn", "rain200l,rain200h,rain800,did,ddn")["type"] == "ddn"
    assert dataset_entry("rain200h", "synthmix") == {"type": "rain200h", "name": "Rain200H", "split": "test"}


def test_cli_model_index_yaml(monkeypatch, capsys, tmp_path: Path) -> None:
    folder = _reported(tmp_path, MIXED)
    out = tmp_path / "index.yaml"
    code, _, _ = run_cli(["leaderboard", "--source", "reported", "--reported", str(folder), "--out", str(out)], monkeypatch, capsys)
    text = out.read_text(encoding="utf-8")
    assert code == 0 and text.startswith("# Generated by `zoo leaderboard --source reported")
    parsed = yaml.safe_load(text)
    names = {m["name"] for e in parsed["model-index"] for r in e["results"] for m in r["metrics"]}
    assert names == {"PSNR (y-matlab)", "SSIM (y-matlab)", "PSNR (rcdnet-matlab)", "SSIM (rcdnet-matlab)", "PSNR (unstated)", "SSIM (unstated)"}


# ---------------------------------------------------------------------------------------------
# The page and the figure


def test_page_shows_field_tables_beside_the_boards(tmp_path: Path) -> None:
    folder = _reported(tmp_path, MIXED)
    lb = build(tmp_path / "none", source="reported", reported=folder)
    text = to_page(lb, field=field_tables(load_reported(folder)))
    assert text.count('<section class="field"') == 2 and '<section class="field" data-dataset="did">' in text
    assert '<tr data-dataset="rain200h" data-protocol="rcdnet-matlab">' in text
    assert f">1{PROTOCOL_MARKER}</td>" in text and '<option value="unstated">' in text
    assert '<a href="https://github.com/owner/repo1/blob/abc/README.md">github.com/owner/repo1</a>' in text


def test_gain_bars_are_the_tables_intervals() -> None:
    """The bar chart's error bars are (mean − ci_low, ci_high − mean): the interval the table prints."""
    rows = pd.DataFrame({"mean": [0.10, -0.20, 0.30], "ci_low": [0.02, -0.50, None], "ci_high": [0.25, 0.05, None]})
    below, above = _interval_bars(rows)
    assert below == pytest.approx([0.08, 0.30, 0.0]) and above == pytest.approx([0.15, 0.25, 0.0])


def test_source_all_shows_boards_then_field_tables(monkeypatch, capsys, tmp_path: Path) -> None:
    """`--source all` in markdown: the measured boards, then the reported numbers as field tables (not as
    one single-column board per source and training set)."""
    folder = _reported(tmp_path, MIXED)
    ResultsStore(tmp_path / "store").append([
        make_row(run=f"brn-{method}", backbone="brn", config="tiny", method=method, train_data="synthmix", eval_dataset="heavy",
                 metric="psnr", protocol="y-matlab", value=20.0 + (method == "coic"), n_images=4, iterations=5, seed=0, source="measured")
        for method in ("baseline", "coic")
    ])
    args = ["leaderboard", "--store", str(tmp_path / "store"), "--source", "all", "--reported", str(folder), "--format", "md"]
    code, out, _ = run_cli(args, monkeypatch, capsys)
    assert code == 0 and out.index("## PSNR (dB), measured: trained on synthmix") < out.index("# The field's published deraining numbers")
    assert "reported: trained on" not in out and "## rain200h" in out and "## did" in out


def test_model_index_names_a_test_set_it_lacks(monkeypatch, capsys, tmp_path: Path) -> None:
    folder = _reported(tmp_path, MIXED)
    args = ["leaderboard", "--source", "reported", "--reported", str(folder), "--dataset", "rain999", "--format", "model-index"]
    code, _, err = run_cli(args, monkeypatch, capsys)
    assert code == 2 and "has no eval_dataset 'rain999'; it has: did, rain200h" in err
