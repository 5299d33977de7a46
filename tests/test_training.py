"""The trainer: DDP on CPU equal to one process (and to gradient accumulation), NaN guard, bad options, and that it learns.

Resume after SIGKILL is tested in tests/test_kill_anywhere.py, bit-identical resume per option in tests/test_resume.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tests.ddp_worker import EQUIVALENT
from zoo.data.mixing import MixedPatches
from zoo.errors import ZooError
from zoo.training.config import TrainConfig
from zoo.training.optim import lr_factor
from zoo.training.runtime import Runtime
from zoo.training.trainer import Trainer, TrainingDiverged


def _weights(run: Path) -> dict[str, torch.Tensor]:
    state = torch.load(run / "train_state.pt", map_location="cpu", weights_only=True)
    return state["model"]


def _run_single(cfg: TrainConfig, run_dir: Path, monkeypatch: pytest.MonkeyPatch, **runtime) -> tuple[Trainer, list[int]]:
    """Train `cfg` in this process, recording the stream index of every sample read."""
    read: list[int] = []
    original = MixedPatches.__getitem__
    monkeypatch.setattr(MixedPatches, "__getitem__", lambda self, k: read.append(int(k)) or original(self, k))
    trainer = Trainer(cfg, run_dir, runtime=Runtime(device="cpu", workers=0, **runtime))
    trainer.fit()
    monkeypatch.setattr(MixedPatches, "__getitem__", original)
    return trainer, read


def _assert_close(
    found: dict[str, torch.Tensor], expected: dict[str, torch.Tensor], what: str, rtol: float = 0.0, peak_rtol: float = 0.0
) -> None:
    """Elementwise to 1e-6 + rtol * |expected|, the 1e-6 raised to peak_rtol x the tensor's largest magnitude."""
    assert found.keys() == expected.keys()
    for key in expected:
        atol = max(1e-6, peak_rtol * float(expected[key].abs().max()))
        close = torch.allclose(found[key], expected[key], rtol=rtol, atol=atol)
        assert close, f"{what}: {key} differs by {(found[key] - expected[key]).abs().max():.3g} (allowed {atol:.3g} + {rtol} x |value|)"


@pytest.fixture(scope="module")
def ddp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What each rank of `tests/ddp_worker.py` ends with, under torchrun with 2 gloo processes (run once)."""
    out = tmp_path_factory.mktemp("ddp")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    worker = Path(__file__).with_name("ddp_worker.py")
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(worker), str(out)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def test_ddp_two_processes_equal_one_process_with_the_whole_batch(ddp: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """world 2 x 4 samples == world 1 x 8 samples == world 1 x 2 accumulation steps x 4 samples.

    Fails if a rank reads another rank's samples (the weights and the index check) or if gradients
    are summed over the ranks instead of averaged (the gradients check; Adam hides most of a factor 2
    in the weights).
    """
    ranks = [load_file(str(ddp / f"equivalent-rank{r}.safetensors")) for r in (0, 1)]
    grads = [load_file(str(ddp / f"equivalent-rank{r}.grads.safetensors")) for r in (0, 1)]
    read = [json.loads((ddp / f"equivalent-rank{r}.json").read_text()) for r in (0, 1)]
    for key in ranks[0]:
        assert torch.equal(ranks[0][key], ranks[1][key]), key

    single, single_read = _run_single(EQUIVALENT, tmp_path / "single", monkeypatch)
    assert not set(read[0]) & set(read[1]), "two ranks read the same samples"
    assert sorted(read[0] + read[1]) == sorted(single_read) == list(range(EQUIVALENT.iters * EQUIVALENT.batch))
    _assert_close(ranks[0], single.model.state_dict(), "weights")
    single_grads = {k: p.grad for k, p in single.model.named_parameters() if p.grad is not None}
    # float32 sums in another order (two half-batch gradients averaged vs one whole batch), on weights that
    # already differ by float rounding after the earlier steps; the LSTM gates amplify it. Measured on an AMD
    # EPYC (AVX2): 1.45e-5 on image.lstm.conv_g.bias at a peak of 0.062 (2.3e-4 of the peak), where the 1e-6
    # tuned on another CPU failed. 1e-3 of each tensor's peak leaves 4x room; a wrong average (a factor of 2
    # on one rank's half) misses by a quarter of the peak or more.
    _assert_close(grads[0], single_grads, "gradients", rtol=1e-5, peak_rtol=1e-3)
    initial = Trainer(EQUIVALENT, tmp_path / "fresh").model.state_dict()
    assert any(not torch.equal(initial[k], ranks[0][k]) for k in ranks[0]), "training changed nothing"

    accumulated, _ = _run_single(EQUIVALENT, tmp_path / "accumulated", monkeypatch, accum=2)
    _assert_close(ranks[0], accumulated.model.state_dict(), "weights (2 accumulation steps)")

    coic = [load_file(str(ddp / f"consistent-rank{r}.safetensors")) for r in (0, 1)]
    for key in coic[0]:
        assert torch.equal(coic[0][key], coic[1][key]), key


def test_ddp_guard_fired_on_one_rank_is_applied_on_all(ddp: Path) -> None:
    """DGUNet's explode guard, made to fire on rank 1 only, clips on both ranks (an all-reduced decision),
    so they stay identical; and each rank's own RNG state reaches the checkpoint, to be restored by it."""
    guarded = [load_file(str(ddp / f"guarded-rank{r}.safetensors")) for r in (0, 1)]
    for key in guarded[0]:
        assert torch.equal(guarded[0][key], guarded[1][key]), f"ranks stepped apart at {key}"
    fired = [json.loads((ddp / f"guarded-rank{r}.json").read_text()) for r in (0, 1)]
    assert fired[0] == fired[1] == [0.0, 0.0, 1.0, 1.0], fired  # steps 0 and 1 are stage 1; 2 and 3 stage 2, guarded
    state = torch.load(ddp / "guarded" / "train_state.pt", map_location="cpu", weights_only=True)
    rngs = [load_file(str(ddp / f"guarded-rank{r}.rng.safetensors"))["rng"] for r in (0, 1)]
    assert len(state["rng_ranks"]) == 2 and not torch.equal(rngs[0], rngs[1])
    for r in (0, 1):
        assert torch.equal(state["rng_ranks"][r], rngs[r]), f"rank {r}'s RNG state"


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
