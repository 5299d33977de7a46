"""The published leaderboard shipped inside the package, so `zoo leaderboard` answers right after install.

Its one home is the committed store `leaderboards/results`; `zoo/results/assets/published/` is a
generated copy (`python tools/pack_published.py`, which calls `pack`): the store's de-duplicated
rows in one part file, and its per-image scores, if any, in one images file, sorted so the copy only
changes when the store does. A test checks the copy still matches the store.

With no `--store`, the leaderboard shows these rows, labelled `published`, and, when a local
`results/` store has rows, the user's own rows beside them, labelled `measured`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .._atomic import atomic_write
from ..evaluation.records import COLUMNS, IMAGE_KEY, KEY
from .store import DEFAULT_STORE, MODEL_COSTS_FILE, ResultsStore

HOME = Path("leaderboards/results")  # the committed store this copy is generated from
PACKAGED = Path(__file__).parent / "assets" / "published"
PUBLISHED = "published"  # the `source` label of the packaged rows
PART, IMAGES = "part-published.csv", "images-published.csv"


def _sorted(frame: pd.DataFrame, key: tuple[str, ...]) -> pd.DataFrame:
    return frame.sort_values(list(key), key=lambda c: c.astype(str), kind="stable").reset_index(drop=True)


def store_tables(store: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows, per-image lines) of `store`, de-duplicated and in a fixed order."""
    results = ResultsStore(store)
    rows = results.load()
    rows = _sorted(rows[rows["source"] == "measured"].reindex(columns=list(COLUMNS)), KEY)
    return rows, _sorted(results.load_images(), IMAGE_KEY)


def pack(store: str | Path = HOME, out: str | Path = PACKAGED) -> list[Path]:
    """Write the packaged copy of `store` into `out` (one part file, one images file when there are any,
    and the store's model costs when it has them)."""
    rows, images = store_tables(store)
    out = Path(out)
    written = []
    for name, frame in ((PART, rows), (IMAGES, images)):
        target = out / name
        if frame.empty:
            target.unlink(missing_ok=True)
            continue
        text = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
        written.append(atomic_write(target, lambda tmp, text=text: tmp.write_bytes(text), size=len(text)))
    costs = Path(store) / MODEL_COSTS_FILE  # measured once (`--measure-costs`), copied as it is
    if costs.is_file():
        data = costs.read_bytes()
        written.append(atomic_write(out / MODEL_COSTS_FILE, lambda tmp: tmp.write_bytes(data), size=len(data)))
    return written


def default_tables(local: str | Path = DEFAULT_STORE) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(rows, per-image lines, description) for `zoo leaderboard` without `--store`: the packaged rows
    (source `published`) plus the rows of the local store `local` when it has any (source `measured`)."""
    rows, images = store_tables(PACKAGED)
    rows = rows.assign(source=PUBLISHED)
    images = images.assign(source=PUBLISHED)
    where = f"the published leaderboard (packaged copy of {HOME})"
    mine, my_images = store_tables(local)
    if not mine.empty:
        rows = pd.concat([rows, mine], ignore_index=True)
        images = pd.concat([images, my_images], ignore_index=True) if not my_images.empty else images
        where += f" and your results store {local}"
    return rows, images, where
