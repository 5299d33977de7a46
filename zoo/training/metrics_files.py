"""Where an evaluation of a run is written: `metrics.json` for the run's own evaluation, a side file otherwise.

`metrics.json` is what the rest of the suite reads as the run's scores (`zoo bench` ingests its rows,
`zoo push` puts them on the model card, `find_baseline` pairs runs by it), so it only ever holds the
run's own evaluation: the data and dataset root it trained on, its protocol, its trained encoder.
An evaluation that differs in any of those (`zoo evaluate RUN --data other`, another `--root`,
`--allow-random-encoder`) goes to `metrics-<data>[-<root>][-random-encoder].json` beside it, so it
can never overwrite the scores the run is known by. Each file records what it measured under
`"evaluation"`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from ..errors import ZooError
from ..models.checkpoint import RANDOM_ENCODER
from ..models.files import METRICS_FILE
from .config import TrainConfig

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


def evaluation_identity(cfg: TrainConfig, data: str, root: Path | None, random_encoder: bool) -> dict[str, Any]:
    """What an evaluation measured: data, dataset root, protocol, encoder (None for a baseline)."""
    encoder = None if not cfg.coic else ("random" if random_encoder else "trained")
    return {"data": data, "root": _resolved(root), "protocol": cfg.protocol, "encoder": encoder}


def is_own(cfg: TrainConfig, identity: dict[str, Any]) -> bool:
    """Whether `identity` is the run's own evaluation (the one `metrics.json` holds)."""
    return identity == evaluation_identity(cfg, cfg.data, Path(cfg.root) if cfg.root else None, False)


def metrics_name(cfg: TrainConfig, identity: dict[str, Any]) -> str:
    """`metrics.json` for the run's own evaluation, else `metrics-<data>[-<root>][-random-encoder].json`."""
    if is_own(cfg, identity):
        return METRICS_FILE
    parts = [_UNSAFE.sub("_", str(identity["data"]).replace(",", "+").replace(":", "")).strip("_") or "data"]
    own_root = _resolved(Path(cfg.root)) if cfg.root else None
    if identity.get("root") is not None and identity["root"] != own_root:
        root = str(identity["root"])
        digest = hashlib.sha1(root.encode("utf-8")).hexdigest()[:6]
        parts.append(f"{_UNSAFE.sub('_', Path(root).name) or 'root'}-{digest}")
    if identity.get("encoder") == "random":
        parts.append(RANDOM_ENCODER.replace(" ", "-"))
    return f"metrics-{'-'.join(parts)}.json"


def recorded_identity(metrics: dict[str, Any]) -> dict[str, Any]:
    """The identity a metrics file records; files from before it was recorded give data and protocol only."""
    if isinstance(metrics.get("evaluation"), dict):
        return dict(metrics["evaluation"])
    return {"data": metrics.get("data"), "protocol": metrics.get("protocol")}


def make_room(run_dir: Path, cfg: TrainConfig, identity: dict[str, Any]) -> str | None:
    """Before the run's own evaluation replaces `metrics.json`: if the file there records another
    evaluation (written before side files existed), move it to its own side file, never overwriting one.

    Returns a note saying where it went, or None when nothing had to move.
    """
    path = run_dir / METRICS_FILE
    if not path.is_file():
        return None
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # unreadable: nothing worth keeping that read_metrics would accept either
    recorded = recorded_identity(old) if isinstance(old, dict) else {}
    if all(identity.get(key) == value for key, value in recorded.items()):
        return None
    full = {"root": None, "protocol": cfg.protocol, "encoder": identity.get("encoder"), **recorded}
    target = run_dir / metrics_name(cfg, full)
    if target.name == METRICS_FILE or target.exists():
        raise ZooError(
            f"{path} records another evaluation ({_describe(recorded)}) and {target.name} exists too; "
            f"move {path.name} away, then evaluate again"
        )
    os.replace(path, target)
    return f"the earlier {METRICS_FILE} ({_describe(recorded)}) was moved to {target.name}"


def _describe(identity: dict[str, Any]) -> str:
    return ", ".join(f"{key} {value}" for key, value in identity.items() if value is not None)


def _resolved(root: Path | None) -> str | None:
    return None if root is None else str(Path(root).expanduser().resolve())
