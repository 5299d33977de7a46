"""The `--data` grammar: dataset names, presets, weights, and where each dataset lives on disk.

`--data` is `synthmix`, a preset (`mix5`, `mix5+spa`), `paired` (a generic rain/norain folder given
by --root), or a comma list of dataset names with optional weights (`rain200l,ddn:2`). The names are
the dataset layouts' (`zoo.data.layouts`), so a dataset is named in one place only.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DatasetError, UnknownNameError, ZooError
from .layouts import dataset_names, find_datasets

REAL_DATASETS = dataset_names()
PRESETS = {
    "mix5": ("rain200l", "rain200h", "rain800", "did", "ddn"),
    "mix5+spa": ("rain200l", "rain200h", "rain800", "did", "ddn", "spa"),
}
# Real-rain training sets, balanced against the synthetic total as CoIC's `add_real_world` does.
REAL_WORLD = ("spa",)


def parse_data(spec: str) -> list[tuple[str, float | None]]:
    """'synthmix' | 'mix5' | 'mix5+spa' | 'rain200l,ddn:2,...' -> [(name, weight or None)]."""
    if spec in PRESETS:
        return [(name, None) for name in PRESETS[spec]]
    entries: list[tuple[str, float | None]] = []
    for part in spec.split(","):
        part = part.strip().lower()
        if not part:
            continue
        name, _, weight = part.partition(":")
        if name in [seen for seen, _ in entries]:
            raise ZooError(f"--data names '{name}' twice; name it once, with a weight if it should weigh more ({name}:2)")
        if name not in ("synthmix", "paired", *REAL_DATASETS):
            raise UnknownNameError(
                f"unknown dataset '{name}' in --data; use synthmix, {', '.join(PRESETS)}, paired (--root is the folder) "
                f"or any of: {', '.join(REAL_DATASETS)}"
            )
        try:
            entries.append((name, float(weight) if weight else None))
        except ValueError:
            raise ZooError(f"--data entry '{part}': weight '{weight}' is not a number (use name:2.0)") from None
    if not entries:
        raise ZooError("--data is empty; use synthmix, mix5, or dataset names such as rain200l,rain200h")
    return entries


def dataset_root(root: Path | None, name: str, overrides: dict[str, Path] | None = None) -> Path:
    """Where dataset `name` lives: an explicit override, else the matching folder under --root."""
    if overrides and name in overrides:
        return overrides[name]
    if root is None:
        raise ZooError(f"dataset '{name}' needs --root DIR (a folder per dataset), or use --data synthmix")
    if name == "paired":
        return Path(root)  # a generic rain/norain (or input/target) folder is the root itself
    found = find_datasets(root)
    if name not in found:
        raise DatasetError(
            f"{root}: no folder for '{name}' found (found: {', '.join(sorted(found)) or 'none'}); "
            f"place it at {Path(root) / name} or run `zoo data check {root}`"
        )
    return found[name]
