"""The results store: one long table of measured and reported numbers, one row per value.

Rows follow `zoo.evaluation.records` (the columns and the key of a measurement). The store is a folder of CSV part files that pandas reads as one table. Each append writes a new
part atomically under a unique name, so concurrent writers (a sharded `zoo bench`) never corrupt it;
rows are de-duplicated by their key when read, the newest winning.

Per-image scores (`records.IMAGE_COLUMNS`) go to `images-<id>.csv` next to `part-<id>.csv`, so paired
confidence intervals can be recomputed over images, and learning curves (`records.CURVE_COLUMNS`) to
`curve-<id>.csv`; stores written before them simply have none.

Every file is checked as it is read (`results.damage`): an empty, binary, truncated or foreign CSV
(wrong columns, lines with another number of fields) is refused with one line naming it, never read
as fewer or shifted rows. Inside `skipping_damaged()`, or with `ResultsStore(..., skip_damaged=True)`,
such files are left out instead and named in the list the block receives.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._atomic import atomic_write
from ..errors import ZooError
from ..evaluation.records import (
    COLUMNS,
    CURVE_COLUMNS,
    CURVE_KEY,
    IMAGE_COLUMNS,
    IMAGE_KEY,
    KEY,
    REPORTED_COLUMNS,
    make_row,
)
from .damage import DamagedFile, read_checked, skipping_damaged, skipping_list

__all__ = ["DEFAULT_METRIC", "DEFAULT_REPORTED", "DEFAULT_SOURCE", "DEFAULT_STORE", "ResultsStore", "keep_seeds", "require", "skipping_damaged"]

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_STORE = Path("results")
DEFAULT_REPORTED = Path("leaderboards/reported")  # the field's published numbers, one CSV per source
DEFAULT_METRIC = "psnr"  # the boards' metric when none is named
DEFAULT_SOURCE = "measured"  # the boards' rows when no source is named: this store's runs
MODEL_COSTS_FILE = "model-costs.csv"  # each model's measured costs (`costs.save_model_costs`), beside the parts


class ResultsStore:
    """A folder of CSV parts forming one table."""

    def __init__(self, root: str | Path = DEFAULT_STORE, skip_damaged: bool = False) -> None:
        self.root = Path(root)
        self.skip_damaged = skip_damaged
        self.skipped: list[str] = []  # one line per damaged file left out by this store's reads

    def append(
        self, rows: list[dict[str, Any]], images: list[dict[str, Any]] | None = None, curve: list[dict[str, Any]] | None = None,
    ) -> Path | None:
        """Write `rows` as a new part file, atomically; returns its path.

        `images` (per-image lines, `records.image_rows`) and `curve` (learning-curve points,
        `records.curve_rows`) are written first, as `images-<id>.csv` and `curve-<id>.csv`, so a part
        never exists without what was given with it.
        """
        import pandas as pd

        if not rows:
            return None
        frame = pd.DataFrame([make_row(**row) for row in rows], columns=list(COLUMNS))
        stem = f"{pd.Timestamp.now('UTC').strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        for prefix, lines, columns in (("images", images, IMAGE_COLUMNS), ("curve", curve, CURVE_COLUMNS)):
            if lines:
                data = pd.DataFrame(lines).reindex(columns=list(columns)).to_csv(index=False).encode("utf-8")
                atomic_write(self.root / f"{prefix}-{stem}.csv", lambda tmp, data=data: tmp.write_bytes(data), size=len(data))
        text = frame.to_csv(index=False).encode("utf-8")
        return atomic_write(self.root / f"part-{stem}.csv", lambda tmp: tmp.write_bytes(text), size=len(text))

    def load(self, include_reported: Path | None = None) -> pd.DataFrame:
        """All rows, de-duplicated by key (latest part wins), plus reported CSVs from `include_reported`
        (then with `records.REPORTED_COLUMNS` too: where each reported number was published)."""
        import pandas as pd

        parts = sorted(self.root.glob("part-*.csv")) if self.root.is_dir() else []
        columns = COLUMNS
        if include_reported is not None and include_reported.is_dir():
            parts += sorted(include_reported.glob("*.csv"))
            columns = (*COLUMNS, *REPORTED_COLUMNS)
        frames = [f for f in (self._read(p, columns, (*KEY, "value")) for p in parts) if f is not None and not f.empty]
        if not frames:
            return pd.DataFrame(columns=list(columns))
        table = pd.concat(frames, ignore_index=True).reindex(columns=list(columns))
        return table.drop_duplicates(subset=list(KEY), keep="last").reset_index(drop=True)

    def load_images(self) -> pd.DataFrame:
        """All per-image lines, de-duplicated by `records.IMAGE_KEY` (latest file wins); empty for old stores."""
        return self._load_side("images", IMAGE_COLUMNS, IMAGE_KEY)

    def load_curves(self) -> pd.DataFrame:
        """All learning-curve points, de-duplicated by `records.CURVE_KEY`; empty when no run recorded one."""
        return self._load_side("curve", CURVE_COLUMNS, CURVE_KEY)

    def _load_side(self, prefix: str, columns: tuple[str, ...], key: tuple[str, ...]) -> pd.DataFrame:
        import pandas as pd

        files = sorted(self.root.glob(f"{prefix}-*.csv")) if self.root.is_dir() else []
        frames = [f for f in (self._read(p, columns, key) for p in files) if f is not None and not f.empty]
        if not frames:
            return pd.DataFrame(columns=list(columns))
        table = pd.concat(frames, ignore_index=True).reindex(columns=list(columns))
        return table.drop_duplicates(subset=list(key), keep="last").reset_index(drop=True)

    def _read(self, path: Path, known: tuple[str, ...], required: tuple[str, ...]) -> pd.DataFrame | None:
        """One checked file; None when it is damaged and damaged files are skipped (then named in `skipped`)."""
        try:
            return read_checked(path, known, required)
        except DamagedFile as damaged:
            outer = skipping_list()
            if not self.skip_damaged and outer is None:
                raise ZooError(
                    f"{damaged}; move it out of {self.root} (or restore it), or pass --skip-damaged to leave it out"
                ) from None
            line = f"skipped {damaged}"
            for found in (self.skipped, outer):
                if found is not None and line not in found:
                    found.append(line)
            return None


def keep_seeds(table: pd.DataFrame, seeds: Sequence[int]) -> pd.DataFrame:
    """Rows of these training seeds (all rows when `seeds` is empty); a seed no row has raises with the seeds
    the rows have, so a board of "the first five seeds" cannot quietly hold four."""
    import pandas as pd

    if not seeds:
        return table
    present = pd.to_numeric(table["seed"], errors="coerce")
    have = sorted({int(s) for s in present.dropna()})
    missing = [s for s in seeds if s not in have]
    if missing:
        raise ZooError(f"--seed {missing[0]}: no run of the results store has that seed; it has: {', '.join(map(str, have)) or 'none'}")
    return table[present.isin(list(seeds))]


def require(table: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
    """Rows where `column == value`; a value the store lacks raises with the values it has."""
    have = sorted(str(v) for v in table[column].dropna().unique())
    if value not in have:
        raise ZooError(f"the results store has no {column} '{value}'; it has: {', '.join(have) or 'nothing yet'}")
    return table[table[column] == value]
