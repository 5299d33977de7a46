"""What every analysis figure and table shares: a colour-blind-safe palette, titles, atomic writes.

Colours are Paul Tol's "muted" qualitative scheme (distinguishable under the common colour-vision
deficiencies and in greyscale print), cycled with marker shapes when there are more groups than
colours; continuous maps use `cividis`, designed to read the same with deuteranopia. Titles name
the run, the data and (where a metric is drawn) its protocol, so a figure lifted out of its folder
still says what it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._atomic import atomic_write

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PALETTE = ("#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499")
NEUTRAL = "#777777"  # reference groups (clean images, controls)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">")
SEQUENTIAL = "cividis"


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def marker(index: int) -> str:
    return MARKERS[(index // len(PALETTE) + index) % len(MARKERS)]


def title(what: str, run: str, data: str | None = None, protocol: str | None = None) -> str:
    """'WHAT — run RUN · data DATA · protocol P': the provenance line every figure carries."""
    parts = [f"run {run}"]
    if data:
        parts.append(f"data {data}")
    if protocol:
        parts.append(f"protocol {protocol}")
    return f"{what}\n{' · '.join(parts)}"


def pyplot() -> Any:
    """matplotlib's pyplot on the file-only Agg backend, imported on first use (it is slow to import)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.titlesize": 9, "axes.grid": True, "grid.alpha": 0.3, "savefig.dpi": 110})
    return plt


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write `fig` as PNG atomically and close it."""
    plt = pyplot()
    fig.tight_layout()
    atomic_write(Path(path), lambda tmp: fig.savefig(tmp, format="png", metadata={"Software": None}))
    plt.close(fig)
    return Path(path)


def save_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write `frame` as CSV (header, no index) atomically."""
    return atomic_write(Path(path), lambda tmp: frame.to_csv(tmp, index=False))


@dataclass
class Result:
    """What an analysis produced: its tables (also written as CSV), the files written, headline numbers."""

    tables: dict[str, pd.DataFrame]
    files: list[Path]
    summary: dict[str, float] = field(default_factory=dict)


def write_tables(tables: dict[str, pd.DataFrame], out_dir: Path, prefix: str) -> list[Path]:
    """`prefix.csv` for the table called "main", `prefix-NAME.csv` for the others."""
    return [save_csv(frame, out_dir / (f"{prefix}.csv" if name == "main" else f"{prefix}-{name}.csv")) for name, frame in tables.items()]
