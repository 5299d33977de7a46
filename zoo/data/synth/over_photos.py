"""`write_over_backgrounds`: synthmix's rain rendered over the user's own clean photos, written as datasets.

Every box cut from every photo gets every chosen domain's rain, each pair from its own random stream
(seed, split, photo name, box, domain), so the same photos, options and seed give the same bytes. The
pairs go to `OUT/Rain200L/<split>/` (all domains, numbered 1..N in photo, box, domain order) and to
`OUT/domains/<domain>/Rain200L/<split>/` (numbered 1..n), with the Rain200 names the rain200l loader
reads: `rain/norain-{i}x2.png` and `norain/norain-{i}.png`. See `folders` for reruns, `manifest` for rows.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..._atomic import atomic_write
from ..._progress import NullProgress, ProgressLike
from ...errors import ZooError
from .cuts import Cut, list_backgrounds, plan_backgrounds, read_background, sample_rng, split_id
from .domains import DOMAINS, domain, rain_over
from .folders import claim, combined_folder, domain_folder
from .manifest import manifest_row, write_manifest


@dataclass(frozen=True)
class Written:
    """What one call wrote: the split, pair counts (in all, per domain) and how many photos and boxes."""

    out: Path
    split: str
    pairs: int
    per_domain: dict[str, int]
    photos: int
    boxes: int


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _write(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data), size=len(data))


def _names(split: str, number: int) -> tuple[str, str]:
    """(rainy, clean) paths of pair `number` relative to a dataset folder, in Rain200's names."""
    return f"{split}/rain/norain-{number}x2.png", f"{split}/norain/norain-{number}.png"


def _domains(names: Sequence[str]) -> list[str]:
    chosen = list(names)
    if not chosen:
        raise ZooError(f"--domains is empty; choose from: {', '.join(DOMAINS)}")
    for name in chosen:
        domain(name)
        if chosen.count(name) > 1:
            raise ZooError(f"--domains names '{name}' twice; name each domain once")
    return chosen


def write_over_backgrounds(
    out: str | Path,
    backgrounds: str | Path,
    domains: Sequence[str] = tuple(DOMAINS),
    cut: Cut = Cut(),
    seed: int = 0,
    split: str = "test",
    progress: ProgressLike | None = None,
) -> Written:
    """Render each domain's rain over each box of each photo in `backgrounds`; write `split` under `out`.

    Photos are all read before anything is written, so an unreadable one, or one smaller than the
    crop, is refused with nothing changed. `progress` gets a task for reading and one for writing.
    """
    out, chosen = Path(out), _domains(domains)
    split_id(split)
    progress = progress or NullProgress()
    paths = list_backgrounds(backgrounds)
    reading = progress.add_task("reading backgrounds", total=len(paths))
    plan = plan_backgrounds(backgrounds, paths, cut, seed, split, lambda: progress.update(reading, advance=1))
    progress.remove_task(reading)
    boxes = sum(len(background.boxes) for background in plan)
    rows = {folder: list(kept) for folder, kept in claim(out, split, chosen).items()}
    writing = progress.add_task(f"writing {split} pairs", total=boxes * len(chosen))
    number, per_domain = 0, dict.fromkeys(chosen, 0)
    for background in plan:
        pixels = read_background(background.path)
        for index, box in enumerate(background.boxes):
            clean = np.ascontiguousarray(pixels[box.y : box.y + box.h, box.x : box.x + box.w])
            for name in chosen:
                rainy8, clean8, drawn = rain_over(clean, name, sample_rng(seed, split, background.name, index, list(DOMAINS).index(name)))
                rainy_png, clean_png = _png(rainy8), _png(clean8)
                number += 1
                per_domain[name] += 1
                for folder, n in ((combined_folder(out), number), (domain_folder(out, name), per_domain[name])):
                    rainy, clean_name = _names(split, n)
                    _write(folder / rainy, rainy_png)
                    _write(folder / clean_name, clean_png)
                    rows[folder].append(manifest_row(split, rainy, clean_name, name, background, cut.mode, index, box, seed, drawn))
                progress.update(writing, advance=1)
    for folder, folder_rows in rows.items():
        write_manifest(folder, folder_rows)
    return Written(out, split, number, per_domain, len(plan), boxes)
