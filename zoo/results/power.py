"""How many seeds a CoIC − baseline comparison needs: the power budget of a benchmark matrix.

From a store's per-seed spread of the paired difference on the average column (`boards`' gain rows),
the seeds S needed for a 95% t-interval half-width of at most `target` dB are the smallest S >= 2 with
t(0.975, S - 1) * s / sqrt(S) <= target, where s is the sample std of the per-seed differences seen so
far (an estimate: from 3 seeds it can be off by a factor of 2 either way, so the budget is a plan, and
the regenerated table reports the half-width actually reached). Test images are held fixed across
seeds, so their number does not enter this interval; the bootstrap over images (`stats`) adds their
spread once per-image scores are stored.
"""

from __future__ import annotations

import math

import pandas as pd

from ..errors import ZooError
from .boards import AVERAGE, GAIN, Leaderboard
from .stats import LEVEL
from .text import frame_as_csv, markdown_head, markdown_table, tables_as_text

TARGET_DB = 0.15
MAX_SEEDS = 1000


def seeds_needed(std: float, target: float = TARGET_DB, level: float = LEVEL, most: int = MAX_SEEDS) -> int | None:
    """Smallest number of seeds whose t-interval half-width for a per-seed std `std` is <= `target`; None above `most`."""
    from scipy import stats

    for n in range(2, most + 1):
        if stats.t.ppf(0.5 + level / 2, n - 1) * std / math.sqrt(n) <= target:
            return n
    return None


def power_table(lb: Leaderboard, target: float = TARGET_DB, level: float = LEVEL) -> pd.DataFrame:
    """Per backbone and config of each board's gain rows on the average column: seeds so far, mean
    difference, per-seed std, the half-width reached, and the seeds needed for `target`."""
    rows = []
    for board in lb.boards:
        gains = board.stats[(board.stats["method"] == GAIN) & (board.stats["eval_dataset"] == AVERAGE)]
        for _, gain in gains.iterrows():
            n, std = int(gain["n"]), float(gain["std"])
            low, high = gain.get("ci_low"), gain.get("ci_high")
            half = (float(high) - float(low)) / 2 if pd.notna(low) and pd.notna(high) else float("nan")
            rows.append({
                "backbone": gain["backbone"], "config": gain["config"], "iterations": board.iterations, "seeds": n,
                "mean": float(gain["mean"]), "std": std, "half_width": half,
                "seeds_needed": seeds_needed(std, target, level) if pd.notna(std) else None,
            })
    return pd.DataFrame(rows)


HEADERS = {  # power_table column: what `zoo leaderboard --view power` calls it
    "backbone": "backbone", "config": "config", "iterations": "iterations", "seeds": "seeds",
    "mean": "CoIC − baseline (dB)", "std": "per-seed std (dB)", "half_width": "half-width now (dB)",
    "seeds_needed": "seeds needed",
}
TEXT_COLUMNS = ("backbone", "config")  # left-aligned; the rest are numbers
TITLE = "CoIC − baseline: seeds for the target half-width"
FORMATS = ("table", "md", "csv")


def power_caption(target: float = TARGET_DB, level: float = LEVEL) -> str:
    """What the power view's columns mean, printed under it."""
    return (
        f"CoIC − baseline PSNR on the average of the test sets, paired over seeds. Seeds needed: the smallest S with "
        f"t({0.5 + level / 2:.3f}, S − 1) × std / √S <= {target} dB, the {level:.0%} half-width the benchmark aims at, from the "
        "per-seed std seen so far (a plan: a few seeds estimate the std loosely); '> "
        f"{MAX_SEEDS}' where even {MAX_SEEDS} would not do. Half-width now: the interval the board prints."
    )


def _cell(column: str, value: object, sized: bool) -> str:
    """One printed cell; `sized`: the row has a per-seed std (2+ seeds), so a missing budget means 'above MAX_SEEDS'."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return f"> {MAX_SEEDS}" if column == "seeds_needed" and sized else "–"
    if column == "mean":
        return f"{float(value):+.3f}"  # type: ignore[arg-type]
    if column in ("std", "half_width"):
        return f"{float(value):.3f}"  # type: ignore[arg-type]
    if column in ("iterations", "seeds", "seeds_needed"):
        return str(int(float(value)))  # type: ignore[arg-type]
    return str(value)


def render_power(table: pd.DataFrame, fmt: str, generated: str | None = None) -> str:
    """`power_table` as plain text (`table`), markdown or CSV (the CSV keeps full precision)."""
    if fmt not in FORMATS:
        raise ZooError(f"--view power: --format '{fmt}' is not available; use {', '.join(FORMATS)}")
    if fmt == "csv":
        return frame_as_csv(table.reindex(columns=list(HEADERS)))
    cells = [[_cell(c, row[c], pd.notna(row["std"])) for c in HEADERS] for _, row in table.iterrows()]
    right = [c not in TEXT_COLUMNS for c in HEADERS]
    if fmt == "md":
        lines = markdown_head(TITLE, generated) + markdown_table(list(HEADERS.values()), right, cells)
        return "\n".join(lines + ["", power_caption()]) + "\n"
    from rich import box
    from rich.table import Table

    shown = Table(title=TITLE, caption=power_caption(), box=box.SIMPLE_HEAD)
    for header, align_right in zip(HEADERS.values(), right):
        shown.add_column(header, justify="right" if align_right else "left")
    for row in cells:
        shown.add_row(*row)
    return tables_as_text([shown], width=160)
