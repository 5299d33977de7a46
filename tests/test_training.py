"""The trainer: DDP on CPU, NaN guard, bad options, and that it learns.

Resume after SIGKILL is tested in tests/test_kill_anywhere.py, bit-identical resume per option in tests/test_resume.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from zoo.errors import ZooError
from zoo.training.config import TrainConfig
from zoo.training.optim import lr_factor
from zoo.training.trainer import Trainer, TrainingDiverged


def _weights(run: Path) -> dict[str, torch.Tensor]:
    state = torch.load(run / "train_state.pt", map_location="cpu", weights_only=True)
    return state["model"]


def test_ddp_two_processes_end_with_identical_weights(tmp_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    worker = Path(__file__).with_name("ddp_worker.py")
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(worker), str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rank0, rank1 = load_file(str(tmp_path / "rank0.safetensors")), load_file(str(tmp_path / "rank1.safetensors"))
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    initial = Trainer(TrainConfig("brn", coic=True, iters=4, batch=4, crop=32), tmp_path / "fresh").model.state_dict()
    assert any(not torch.equal(initial[k], rank0[k]) for k in rank0), "training changed nothing"


def _tiny(tmp_path: Path, **changes) -> Trainer:
    settings = {"batch": 4, "crop": 32, "synth_count": 8, "synth_size": 48, "ckpt_every": 100, **changes}
    cfg = TrainConfig("brn", coic=True, **settings)
    return Trainer(cfg, tmp_path / "run")


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trainer = _tiny(tmp_path, iters=6, stage1_iters=2)
    trainer.fit(stop_after=3)
    trainer.checkpoint()
    good = {k: v.clone() for k, v in _weights(tmp_path / "run").items()}
    monkeypatch.setattr(trainer, "restoration", lambda outputs, target, rainy: outputs[0].sum() * float("nan"))
    with pytest.raises(TrainingDiverged, match="last good checkpoint \\(step 3\\)"):
        trainer.fit()
    kept = _weights(tmp_path / "run")
    assert all(torch.equal(good[k], kept[k]) for k in good)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"batch": 0}, "--batch 0 must be at least 1"),
        ({"crop": 200}, "--crop 200 is larger than the images"),
        ({"data": "rain300x"}, "unknown dataset 'rain300x'"),
        ({"data": "rain200l"}, "needs --root"),
    ],
)
def test_bad_options_are_clear(tmp_path: Path, changes: dict, message: str) -> None:
    with pytest.raises(ZooError, match=message):
        trainer = _tiny(tmp_path, iters=2, **changes)
        trainer.fit()


def test_resume_on_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(ZooError, match="not a run directory"):
        Trainer.resume(tmp_path)


def test_existing_run_is_not_overwritten(tmp_path: Path) -> None:
    trainer = _tiny(tmp_path, iters=1, stage1_iters=0)
    trainer.fit()
    with pytest.raises(ZooError, match="--resume"):
        _tiny(tmp_path, iters=1)


def test_learning_rate_schedules() -> None:
    multistep = TrainConfig("brn", iters=100, lr=1.0, schedule="multistep", milestones=(0.5, 0.8), gamma=0.1)
    assert [lr_factor(multistep, s) for s in (0, 49, 50, 79, 80)] == pytest.approx([1, 1, 0.1, 0.1, 0.01])
    cosine = TrainConfig("brn", iters=100, lr=1.0, schedule="cosine", eta_min=0.0)
    assert lr_factor(cosine, 0) == pytest.approx(1.0) and lr_factor(cosine, 50) == pytest.approx(0.5)
    assert lr_factor(cosine, 100) == pytest.approx(0.0, abs=1e-9)
    # DRSformer's restart schedule: constant, then 1 -> 1/3, then a restart decaying towards 0.
    cyclic = TrainConfig("drsformer", iters=400, lr=3.0, schedule="cyclic_cosine", periods=(0.23, 0.52, 0.5), cycle_floors=(3.0, 1.0, 0.0))
    assert lr_factor(cyclic, 0) == pytest.approx(1.0) and lr_factor(cyclic, 91) == pytest.approx(1.0)
    assert lr_factor(cyclic, 92 + 104) == pytest.approx((1 + 3) / 2 / 3)
    assert lr_factor(cyclic, 300) == pytest.approx(1.0) and lr_factor(cyclic, 400) == pytest.approx(0.5)


def test_stage_one_leaves_coic_parts_untouched(tmp_path: Path) -> None:
    trainer = _tiny(tmp_path, iters=2, stage1_iters=2)
    before = {k: v.clone() for k, v in trainer.model.encoder.state_dict().items()}
    trainer.fit()
    after = trainer.model.encoder.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
