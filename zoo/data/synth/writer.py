"""Write synthmix to disk in the Rain200 layout, so every real-data loader (and other tools) can read it.

`ROOT/<split>/rain/norain-{i}x2.png` <-> `ROOT/<split>/norain/norain-{i}.png`, i = 1..N numbered
across the chosen domains in order, plus `ROOT/<split>/domains.csv` saying which domain and synthmix
index each file came from. PNGs are lossless, so reading them back gives the generator's bytes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image

from ..._atomic import atomic_write, atomic_write_text, ensure_folder
from .domains import TRAIN_DOMAINS, domain, synth_pair


def _save_png(path: Path, array) -> None:
    atomic_write(path, lambda tmp: Image.fromarray(array).save(tmp, format="PNG"))


def write_synth(
    root: str | Path,
    domains: Sequence[str] = TRAIN_DOMAINS,
    per_domain: int = 16,
    seed: int = 0,
    size: int = 128,
    split: str = "test",
    on_image: Callable[[], None] | None = None,
) -> Path:
    """Write `per_domain` pairs of each domain under `root/split`; returns that folder."""
    for name in domains:
        domain(name)
    folder = Path(root) / split
    ensure_folder(folder / "rain")
    ensure_folder(folder / "norain")
    rows = []
    number = 0
    for name in domains:
        for index in range(per_domain):
            number += 1
            rainy, clean = synth_pair(name, index, seed, split, (size, size))
            _save_png(folder / "rain" / f"norain-{number}x2.png", rainy)
            _save_png(folder / "norain" / f"norain-{number}.png", clean)
            rows.append({"file": f"norain-{number}.png", "domain": name, "index": index, "seed": seed})
            if on_image is not None:
                on_image()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["file", "domain", "index", "seed"])
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(folder / "domains.csv", buffer.getvalue())
    return folder
