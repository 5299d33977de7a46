"""Run directories: what a training run leaves on disk and how to find and read it again.

A run directory holds `config.json` (the model's build arguments plus the full `train` settings),
`model.safetensors`, `encoder.safetensors` (CoIC), `train_state.pt` (everything needed to resume:
weights, optimisers, schedulers, RNG, step; loadable with `weights_only=True`), `metrics.json`
and TensorBoard events. Each file is replaced atomically.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch

from .._atomic import atomic_write
from ..errors import CheckpointError, ZooError
from ..models.checkpoint import read_config
from ..models.files import CONFIG_FILE, METRICS_FILE, STATE_FILE
from ..models.torch_load import pickled_code, pickled_code_message
from .config import TrainConfig


def default_run_dir(cfg: TrainConfig, runs_root: Path = Path("runs")) -> Path:
    """`runs/<backbone>-<config>-<data>-<method>-s<seed>`: one folder per distinct run."""
    method = "coic" if cfg.coic else "baseline"
    data = cfg.data.replace(",", "+").replace(":", "")
    # A negatives ablation gets its own folder (and run name in the results store); the default keeps the plain name.
    ablation = f"-neg-{cfg.negatives}" if cfg.coic and cfg.negatives != "both" else ""
    return runs_root / f"{cfg.backbone}-{cfg.config}-{data}-{method}-s{cfg.seed}{ablation}"


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Write the resumable state (tensors, numbers, lists only: it loads with `weights_only=True`)."""
    atomic_write(path, lambda tmp: _torch_save(state, tmp), size=tensor_bytes(state))


def _torch_save(state: dict[str, Any], path: Path) -> None:
    # Serialised in memory, then written by Python: torch's zip writer turns a failed write of the file
    # it is given into `RuntimeError: [enforce fail at inline_container.cc]`, hiding the full disk that
    # the atomic writer reports in one line (the OSError(ENOSPC) survives only as its __context__).
    buffer = io.BytesIO()
    torch.save(state, buffer)
    with open(path, "wb") as handle:
        handle.write(buffer.getbuffer())


def tensor_bytes(obj: Any) -> int:
    """Bytes of the tensors inside nested dicts and lists: about what `torch.save` will write."""
    if isinstance(obj, torch.Tensor):
        return obj.numel() * obj.element_size()
    if isinstance(obj, dict):
        return sum(tensor_bytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(tensor_bytes(v) for v in obj)
    return 0


def read_train_state(run_dir: Path) -> dict[str, Any]:
    """The resumable state of `run_dir`, on the CPU, without unpickling code."""
    path = run_dir / STATE_FILE
    if not path.is_file():
        raise ZooError(f"{run_dir}: not a resumable run (no {STATE_FILE}); pass the folder `zoo train` wrote, or start a new run")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # corrupt or foreign file
        refused = pickled_code(err)
        if refused is not None:
            raise CheckpointError(pickled_code_message(
                path, refused, "it is not a file `zoo train` wrote; restore the run's own file, or start again with --overwrite"
            )) from None
        raise CheckpointError(
            f"{path}: unreadable ({type(err).__name__}), so the run cannot resume from it; restore the file, "
            f"or start the run again with --overwrite"
        ) from None


def run_config(run_dir: Path) -> TrainConfig:
    """The TrainConfig a run was started with."""
    return read_run(run_dir)[0]


def read_run(run_dir: Path) -> tuple[TrainConfig, dict[str, Any]]:
    """The TrainConfig of a run and the `run` block of its config.json (step, wall time, device, speed),
    from one read: a caller that needs both (a resume, an evaluation) does not open the file twice."""
    if not (run_dir / CONFIG_FILE).is_file():
        raise ZooError(f"{run_dir}: not a run directory (no {CONFIG_FILE}); pass a folder written by `zoo train`")
    config = read_config(run_dir)
    if "train" not in config:
        raise ZooError(f"{run_dir / CONFIG_FILE}: has no training settings; it is a model folder, not a run")
    return TrainConfig.from_dict(config["train"]), dict(config.get("run", {}))


def find_baseline(run_dir: Path, cfg: TrainConfig) -> Path | None:
    """A finished baseline run beside `run_dir` with the same backbone, config, data, seed and length."""
    for candidate in sorted(run_dir.parent.glob(f"*/{CONFIG_FILE}")):
        other_dir = candidate.parent
        if other_dir == run_dir or not (other_dir / METRICS_FILE).is_file():
            continue
        try:
            other = run_config(other_dir)
        except ZooError:
            continue
        same = all(getattr(other, k) == getattr(cfg, k) for k in ("backbone", "config", "data", "seed", "iters"))
        if same and not other.coic:
            return other_dir
    return None
