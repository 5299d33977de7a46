"""The cost views of a results store: what each run cost (`zoo leaderboard --view run-cost`) and what
each model costs (`zoo leaderboard --view model-cost`, `model_costs`).

Model costs are measured once (`--measure-costs`: every model runs, minutes on a CPU) and kept in the
store as `MODEL_COSTS_FILE`, so a table regenerated from the store is the same file every time.

A leaderboard compares what runs scored; this view says what each cost and where it ran: device,
precision, effective batch, training throughput (images/s), peak GPU memory, wall time, parameters
and MACs, as the run recorded them (`zoo.evaluation.records.COST_COLUMNS`). Rows from stores
written before those columns existed show them empty.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from ..errors import ZooError
from .boards import ROW_KEYS, load_table, method_label
from .store import MODEL_COSTS_FILE
from .text import frame_as_csv, markdown_head, markdown_table, tables_as_text

COLUMNS = (
    "backbone", "config", "method", "seed", "train_data", "iterations", "device", "precision", "effective_batch",
    "images_per_s", "peak_memory_gib", "wall_time_s", "params", "macs", "run",
)
HEADERS = {
    "effective_batch": "batch", "images_per_s": "images/s", "peak_memory_gib": "peak GiB", "wall_time_s": "train s",
    "train_data": "data",
}
DIGITS = {"images_per_s": 1, "peak_memory_gib": 2, "wall_time_s": 0}
INTEGERS = ("seed", "iterations", "effective_batch", "params", "macs")


def cost_table(store: str | Path, backbones: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per measured run of `store` (the newest rows of each run), in leaderboard order."""
    table = load_table(Path(store), "measured", None)
    if backbones:
        unknown = sorted(set(backbones) - set(table["backbone"].astype(str)))
        if unknown:
            have = ", ".join(sorted(table["backbone"].astype(str).unique()))
            raise ZooError(f"the results store has no backbone {unknown[0]!r}; it has: {have}")
        table = table[table["backbone"].astype(str).isin(list(backbones))]
    runs = table.drop_duplicates(subset=["run"], keep="last").reindex(columns=list(COLUMNS))
    return runs.sort_values([*ROW_KEYS, "seed", "train_data"], kind="stable").reset_index(drop=True)


def _text(column: str, value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[call-overload]
        return "–"
    if column == "method":
        return method_label(str(value))
    if column in DIGITS:
        return f"{float(value):,.{DIGITS[column]}f}"  # type: ignore[arg-type]
    if column in INTEGERS:
        return f"{int(float(value)):,}" if column in ("params", "macs") else str(int(float(value)))  # type: ignore[arg-type]
    return str(value)


def render_costs(runs: pd.DataFrame, fmt: str, generated: str | None = None) -> str:
    """The cost view as md, csv, html or plain text (`table`)."""
    headers = [HEADERS.get(c, c) for c in COLUMNS]
    cells = [[_text(c, row[c]) for c in COLUMNS] for _, row in runs.iterrows()]
    if fmt == "csv":
        return frame_as_csv(runs)
    if fmt == "md":
        right = [c in DIGITS or c in INTEGERS for c in COLUMNS]
        return "\n".join(markdown_head("coic-zoo runs: cost and hardware", generated) + markdown_table(headers, right, cells)) + "\n"
    if fmt == "html":
        head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in cells)
        note = f"<p>{html.escape(generated)}</p>" if generated else ""
        return f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>coic-zoo runs</title></head><body>{note}<table><tr>{head}</tr>{body}</table></body></html>\n"
    if fmt == "table":
        return to_text(runs)
    raise ZooError(f"--format '{fmt}' is unknown; use table, md, csv or html")


def rich_table(runs: pd.DataFrame) -> object:
    from rich import box
    from rich.table import Table

    table = Table(title="runs: cost and hardware", box=box.SIMPLE_HEAD)
    for column in COLUMNS:
        table.add_column(HEADERS.get(column, column), justify="right" if column in DIGITS or column in INTEGERS else "left")
    for _, row in runs.iterrows():
        table.add_row(*[_text(c, row[c]) for c in COLUMNS])
    return table


def to_text(runs: pd.DataFrame, width: int = 240) -> str:
    return tables_as_text([rich_table(runs)], width=width)


# ---------------------------------------------------------------------------------------------
# What each model costs, baseline and CoIC side by side (`zoo leaderboard --view model-cost`)

MODEL_MEASURES = (  # column, label, format, scale (the CSV keeps the unscaled numbers)
    ("params", "parameters", "{:,.0f}", 1),
    ("macs", "GMACs", "{:,.3f}", 1e9),
    ("cpu_ms", "CPU ms", "{:,.1f}", 1),
    ("peak_mib", "peak MiB", "{:,.1f}", 1),
)
MODEL_METHODS = ("baseline", "coic")


def model_costs(
    store: str | Path | None = None, table: pd.DataFrame | None = None, backbones: list[str] | tuple[str, ...] = (),
    size: int = 256, repeats: int = 3,
) -> pd.DataFrame:
    """Per backbone and config of the store's measured rows (or of `table`): parameters, MACs at
    size x size, the fastest of `repeats` CPU milliseconds per image and peak allocated MiB of one forward pass, for
    the baseline and the CoIC model (each the default build of that config), in `<measure>_<method>`
    columns. Measured now, on this machine's CPU threads."""
    from datetime import datetime, timezone

    import torch

    from ..evaluation.complexity import count_macs, parameter_counts, peak_forward_bytes, time_per_image
    from ..models.build import build_model

    if table is None:
        table = load_table(Path(store if store is not None else "results"), "measured", None)
    pairs = sorted({(str(b), "" if pd.isna(c) else str(c)) for b, c in zip(table["backbone"], table["config"])})
    if backbones:
        pairs = [p for p in pairs if p[0] in set(backbones)]
    rows = []
    for backbone, config in pairs:
        row: dict[str, object] = {
            "backbone": backbone, "config": config, "size": size, "threads": torch.get_num_threads(),
            "measured": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        }
        for method in MODEL_METHODS:
            model = build_model(backbone, coic=method == "coic", config=config or "tiny").eval()
            row[f"params_{method}"] = parameter_counts(model)["params"]
            row[f"macs_{method}"] = count_macs(model, size)
            row[f"cpu_ms_{method}"] = 1000 * min(time_per_image(model, size, repeats, warmup=1))  # best of: least disturbed by other load
            row[f"peak_mib_{method}"] = peak_forward_bytes(model, size) / 2**20
        rows.append(row)
    return pd.DataFrame(rows)


def save_model_costs(store: str | Path, costs: pd.DataFrame) -> Path:
    """Keep `costs` (`model_costs`) in the store, replacing the rows of the same backbone and config."""
    from .._atomic import atomic_write_text

    path = Path(store) / MODEL_COSTS_FILE
    if path.is_file():
        kept = pd.read_csv(path, keep_default_na=False, dtype={"config": str})
        mine = set(zip(costs["backbone"], costs["config"]))
        kept = kept[[(b, c) not in mine for b, c in zip(kept["backbone"], kept["config"])]]
        costs = pd.concat([kept, costs], ignore_index=True)
    costs = costs.sort_values(["backbone", "config"], kind="stable").reset_index(drop=True)
    return atomic_write_text(path, frame_as_csv(costs))


def stored_model_costs(store: str | Path | None, backbones: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """The model costs kept in `store` (the packaged published copy's when `store` is None)."""
    from .packaged_board import PACKAGED

    folder = Path(store) if store is not None else PACKAGED
    path = folder / MODEL_COSTS_FILE
    if not path.is_file():
        where = f"the results store {folder}" if store is not None else "the packaged published leaderboard"
        raise ZooError(f"{where} has no stored model costs ({path.name}); measure them with --measure-costs (every model runs: minutes)")
    costs = pd.read_csv(path, keep_default_na=False, dtype={"config": str})
    if backbones:
        missing = sorted(set(backbones) - set(costs["backbone"]))
        if missing:
            raise ZooError(f"{path} has no costs for backbone {missing[0]!r}; add them with --measure-costs --backbone {missing[0]}")
        costs = costs[costs["backbone"].isin(backbones)]
    return costs.reset_index(drop=True)


def _model_text(value: object, form: str, scale: float) -> str:
    return "–" if value is None or pd.isna(value) else form.format(float(value) / scale)  # type: ignore[arg-type]


def model_costs_caption(costs: pd.DataFrame) -> str:
    size = int(costs["size"].iloc[0]) if not costs.empty else 256
    threads = int(costs["threads"].iloc[0]) if not costs.empty else 0
    dates = sorted({str(d) for d in costs["measured"]}) if "measured" in costs else []
    when = "on " + ", ".join(dates) if dates else "when the table was made"
    return (
        f"Per model, one 3 x {size} x {size} image: deployed parameters (CoIC: backbone, modulation MLPs and query encoder, "
        f"not the momentum copy); MACs from torch's FLOP counter (GFLOPs = 2 x MACs); CPU ms: fastest of 3 forward passes "
        f"after a warm-up (the least disturbed by other load), {threads} threads, measured {when}; peak MiB: most memory the CPU allocator held "
        "during one forward pass beyond the weights (input, activations, output), from torch's profiler."
    )


def render_model_costs(costs: pd.DataFrame, fmt: str) -> str:
    """The model-cost table as md (a column group per measure: baseline | CoIC), csv or plain text."""
    if fmt == "csv":
        return frame_as_csv(costs)
    headers = ["backbone", "config", *(f"{label}: {method}" for _, label, _, _ in MODEL_MEASURES for method in ("baseline", "CoIC"))]
    cells = []
    for _, row in costs.iterrows():
        values = [_model_text(row[f"{m}_{method}"], form, scale) for m, _, form, scale in MODEL_MEASURES for method in MODEL_METHODS]
        cells.append([str(row["backbone"]), str(row["config"]), *values])
    if fmt == "html":
        head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in cells)
        return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>coic-zoo cost</title></head><body>"
                f"<table><caption>{html.escape(model_costs_caption(costs))}</caption><tr>{head}</tr>{body}</table></body></html>\n")
    if fmt == "md":
        lines = ["## Cost: baseline and CoIC side by side", "", model_costs_caption(costs), ""]
        lines += markdown_table(headers, [False, False] + [True] * (2 * len(MODEL_MEASURES)), cells)
        return "\n".join(lines) + "\n"
    if fmt == "table":
        from rich import box
        from rich.table import Table

        table = Table(title="cost: baseline and CoIC side by side", caption=model_costs_caption(costs), caption_justify="left", box=box.SIMPLE_HEAD)
        table.add_column("backbone")
        table.add_column("config")
        for _, label, _, _ in MODEL_MEASURES:
            for method in ("baseline", "CoIC"):
                table.add_column(f"{label}\n{method}", justify="right")
        for c in cells:
            table.add_row(*c)
        return tables_as_text([table], width=240)
    raise ZooError(f"--format '{fmt}' is unknown; use table, md, csv or html")
