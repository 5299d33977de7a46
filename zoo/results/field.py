"""The field's published numbers side by side: one table per test set of every reported row.

Papers score with different recipes (the same IDT model reads DID SSIM 0.9401 under its own MATLAB
script and 0.9623 under RCDNet's), so a number is ranked only against numbers of its own protocol.
Within a test set, rows are grouped by protocol: the stated protocol with most rows comes first and is
ranked plainly; every other stated protocol is ranked within its own group and its ranks carry
`PROTOCOL_MARKER`; rows whose source states no protocol (`unstated`) are listed, marked, never ranked.
`zoo leaderboard --source reported` prints these tables; `leaderboards/index.html` embeds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import ZooError
from ..evaluation.metric_table import format_value
from ..evaluation.protocols import PROTOCOLS
from ..evaluation.records import REPORTED_COLUMNS
from .boards import dataset_order
from .store import ResultsStore
from .text import frame_as_csv, markdown_head, tables_as_text

UNSTATED = "unstated"  # the protocol of a reported number whose source does not say how it was scored
PROTOCOL_MARKER = "‡"
FIELD_COLUMNS = (
    "eval_dataset", "rank", "marked", "method", "psnr", "ssim", "protocol", "train_data", "params",
    "venue", "year", "source_url", "code_url", "weights_licence", "citation",
)
_IDENTITY = ["run", "backbone", "config", "method", "train_data", "eval_dataset", "protocol"]


def known_protocols() -> tuple[str, ...]:
    """What a reported row may name as its protocol: one of ours, or `unstated`."""
    return (*PROTOCOLS, UNSTATED)


def load_reported(folder: str | Path) -> pd.DataFrame:
    """The rows of the reported CSVs in `folder`, checked as store files are, with `REPORTED_COLUMNS`.

    The folder is read as a store that holds no parts of its own, so a damaged CSV is refused (or left
    out under `--skip-damaged`) exactly as a damaged store part is."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ZooError(f"the reported-numbers folder {folder} does not exist; pass --reported DIR (default leaderboards/reported)")
    table = ResultsStore(folder).load(include_reported=folder)
    return table[table["source"] == "reported"].reset_index(drop=True)


def problems(table: pd.DataFrame) -> list[str]:
    """One line per reported row that breaks the rules of `leaderboards/reported/` (empty when none)."""
    lines = []
    allowed = set(known_protocols())
    for _, row in table.iterrows():
        name = f"{row['run']} {row['eval_dataset']} {row['metric']}"
        if str(row["protocol"]) not in allowed:
            lines.append(f"{name}: protocol '{row['protocol']}' is neither one of ours ({', '.join(PROTOCOLS)}) nor '{UNSTATED}'")
        for column in ("source_url", "citation", "venue", "year"):
            if pd.isna(row.get(column)) or not str(row.get(column)).strip():
                lines.append(f"{name}: no {column}")
        url = str(row.get("source_url", ""))
        if url and url != "nan" and not url.startswith("https://"):
            lines.append(f"{name}: source_url '{url}' is not an https:// address")
    return lines


def field_rows(table: pd.DataFrame) -> pd.DataFrame:
    """One line per reported (source, method, test set, protocol) with its PSNR and SSIM side by side."""
    table = table.copy()
    for column in (*_IDENTITY, *REPORTED_COLUMNS, "citation"):
        if column not in table.columns:
            table[column] = ""
        table[column] = ["" if pd.isna(v) else str(v) for v in table[column]]
    table["value"] = pd.to_numeric(table["value"], errors="coerce")
    wide = table.pivot_table(index=_IDENTITY, columns="metric", values="value", aggfunc="first").reset_index()
    for metric in ("psnr", "ssim"):
        if metric not in wide.columns:
            wide[metric] = float("nan")
    extra = table.drop_duplicates(subset=_IDENTITY)[[*_IDENTITY, "params", "citation", *REPORTED_COLUMNS]]
    wide = wide.merge(extra, on=_IDENTITY, how="left")
    wide["method"] = [b + (" + CoIC" if m == "coic" else "") for b, m in zip(wide["backbone"], wide["method"])]
    wide.columns.name = None
    return wide


@dataclass
class FieldTable:
    """Every reported number on one test set, ranked within protocol (`rows` has `FIELD_COLUMNS`)."""

    dataset: str
    rows: pd.DataFrame
    main_protocol: str | None  # the unmarked group; None when no row states its protocol

    @property
    def protocols(self) -> list[str]:
        return list(dict.fromkeys(self.rows["protocol"]))

    def captions(self) -> list[str]:
        lines = ["Reported by each method's authors or a later paper, not measured by coic-zoo; each row links its source."]
        if self.main_protocol is not None:
            lines.append(f"Ranked by PSNR among the rows of protocol {self.main_protocol}: {PROTOCOLS[self.main_protocol].description}.")
        if any(self.rows["marked"]):
            lines.append(
                f"{PROTOCOL_MARKER} other protocol: ranked only among rows of its own protocol, not comparable with the "
                f"unmarked rows; rows of protocol {UNSTATED} (the source does not say how it scored) are not ranked."
            )
        return lines


def field_tables(table: pd.DataFrame, datasets: list[str] | tuple[str, ...] = ()) -> list[FieldTable]:
    """One `FieldTable` per test set of the reported rows of `table` (or of `datasets`, in that order)."""
    reported = table[table["source"] == "reported"] if "source" in table.columns else table
    if reported.empty:
        raise ZooError("no reported rows; the field's published numbers live in leaderboards/reported/*.csv")
    wide = field_rows(reported)
    have = dataset_order(wide["eval_dataset"].unique())
    for name in datasets:
        if name not in have:
            raise ZooError(f"no reported numbers on test set '{name}'; reported test sets: {', '.join(have)}")
    return [_one_table(wide[wide["eval_dataset"] == name], name) for name in (list(datasets) or have)]


def _one_table(rows: pd.DataFrame, dataset: str) -> FieldTable:
    stated = [p for p in rows["protocol"] if p != UNSTATED]
    counts = pd.Series(stated, dtype=object).value_counts(sort=False) if stated else pd.Series(dtype=int)
    order = {name: i for i, name in enumerate(PROTOCOLS)}
    groups = sorted(counts.index, key=lambda p: (-int(counts[p]), order.get(p, len(order)), p))
    main = groups[0] if groups else None
    parts = []
    for protocol in [*groups, UNSTATED]:
        group = rows[rows["protocol"] == protocol].sort_values(["psnr", "ssim", "method"], ascending=[False, False, True], na_position="last")
        if group.empty:
            continue
        ranked = protocol != UNSTATED
        group = group.assign(
            rank=[i + 1 if ranked and not pd.isna(p) else None for i, p in enumerate(group["psnr"])],
            marked=protocol != main,
        )
        parts.append(group)
    out = pd.concat(parts, ignore_index=True).reindex(columns=list(FIELD_COLUMNS))
    out["rank"] = out["rank"].astype("Int64")
    return FieldTable(dataset, out, main)


def rank_text(row: pd.Series) -> str:
    """"3", "1‡" (ranked among another protocol's rows) or "–‡" (unranked, protocol unstated)."""
    rank = "–" if pd.isna(row["rank"]) else str(int(row["rank"]))
    return rank + (PROTOCOL_MARKER if bool(row["marked"]) else "")


def value_text(value: object, metric: str) -> str:
    return "–" if value is None or pd.isna(value) else format_value(metric, float(value))


def params_text(value: object) -> str:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return "–" if pd.isna(number) else f"{number / 1e6:.2f}M"


def short_url(url: str) -> str:
    """github.com/owner/repo (or …/issues/19) for a long source address."""
    text = url.removeprefix("https://").removeprefix("http://")
    return text.split("/blob/")[0].split("#")[0]


def to_markdown(tables: list[FieldTable], generated: str | None = None) -> str:
    lines = markdown_head("The field's published deraining numbers", generated)
    for table in tables:
        lines += [f"## {table.dataset}", ""]
        lines += [line for caption in table.captions() for line in (caption, "")]
        lines.append("| rank | method | PSNR | SSIM | protocol | trained on | params | venue | source |")
        lines.append("|---:|---|---:|---:|---|---|---:|---|---|")
        for _, row in table.rows.iterrows():
            venue = f"{row['venue']} {row['year']}".strip()
            source = f"[{short_url(row['source_url'])}]({row['source_url']})" if row["source_url"] else "–"
            lines.append(
                f"| {rank_text(row)} | {row['method']} | {value_text(row['psnr'], 'psnr')} | {value_text(row['ssim'], 'ssim')} | "
                f"{row['protocol']} | {row['train_data']} | {params_text(row['params'])} | {venue} | {source} |"
            )
        lines.append("")
    return "\n".join(lines)


def to_csv(tables: list[FieldTable]) -> str:
    frame = pd.concat([t.rows for t in tables], ignore_index=True) if tables else pd.DataFrame(columns=list(FIELD_COLUMNS))
    return frame_as_csv(frame)


def rich_tables(tables: list[FieldTable]) -> list[object]:
    from rich import box
    from rich.table import Table

    out = []
    for table in tables:
        shown = Table(title=f"{table.dataset}: reported numbers", caption=" ".join(table.captions()), caption_justify="left", box=box.SIMPLE_HEAD)
        for column in ("rank", "method", "PSNR", "SSIM", "protocol", "trained on", "params", "venue", "source"):
            shown.add_column(column, justify="right" if column in ("rank", "PSNR", "SSIM", "params") else "left", no_wrap=column != "source")
        for _, row in table.rows.iterrows():
            shown.add_row(
                rank_text(row), row["method"], value_text(row["psnr"], "psnr"), value_text(row["ssim"], "ssim"), row["protocol"],
                row["train_data"], params_text(row["params"]), f"{row['venue']} {row['year']}".strip(), short_url(row["source_url"]),
            )
        out.append(shown)
    return out


def to_text(tables: list[FieldTable], generated: str | None = None, width: int = 200) -> str:
    """The terminal tables as plain text (`--format table --out FILE`)."""
    return tables_as_text(rich_tables(tables), generated, width)
