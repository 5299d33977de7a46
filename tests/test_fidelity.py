"""Where we follow the official scripts and where we depart, said where users read it (issue 25).

`zoo info BACKBONE` prints the paper recipe with its notes and the departures every recipe shares;
`mix5+spa` moves the epoch-based decays where the official scripts would put them; `--deterministic`
gives the official numerics on CUDA whatever `--tf32` says; each rank resumes with its own RNG state.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.cli_runner import run_cli
from zoo.catalog.recipes import DEPARTURES, paper_recipe, tiny_recipe
from zoo.training.config import TrainConfig
from zoo.training.distributed import Dist
from zoo.training.rng import rank_rng
from zoo.training.runtime import backend_settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_info_prints_the_paper_recipe_notes_and_departures(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["info", "rcdnet"], monkeypatch, capsys)
    text = " ".join(out.split())
    assert code == 0
    assert "paper recipe (train_RCDNet.py): rcdnet_stages loss, adam lr 0.001, batch 16, crop 64, 260,000 iterations" in text
    assert "restoration + 50 x InfoNCE" in text and "contrast weight 50 is the script default" in text
    assert "tiny recipe: batch 8, crop 64, 400 iterations (120 in stage 1)" in text and "contrastive weight 50 as the paper recipe" in text
    assert "94k and 184k" in text  # the mix5+spa schedule
    for departure in DEPARTURES:
        assert " ".join(departure.split()) in text


def test_contrast_weights_are_the_official_scripts() -> None:
    assert paper_recipe("rcdnet").contrast_weight == tiny_recipe("rcdnet").contrast_weight == 50.0
    for backbone in ("brn", "dgunet", "idt", "drsformer"):
        assert paper_recipe(backbone).contrast_weight == tiny_recipe(backbone).contrast_weight == 0.2


@pytest.mark.parametrize(("backbone", "iters", "milestones"), [
    ("brn", 260_000, (0.5743, 0.9449)),  # decays at 149k and 246k
    ("rcdnet", 260_000, (0.3613, 0.7087)),  # 94k and 184k
    ("idt", 794_750, (0.918,)),  # 110 epochs of the doubled data
    ("dgunet", 400_000, ()),  # iteration-based: unchanged
])
def test_mix5_spa_follows_the_epoch_based_scripts(backbone: str, iters: int, milestones: tuple) -> None:
    cfg = TrainConfig(backbone, config="paper", data="mix5+spa").resolved()
    assert cfg.iters == iters and cfg.milestones == milestones and cfg.stage1_iters == 40_000
    assert TrainConfig(backbone, config="paper", data="mix5").resolved().milestones == paper_recipe(backbone).milestones


def test_deterministic_gives_the_official_numerics() -> None:
    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    assert backend_settings(cuda, tf32=True, deterministic=False) == {"tf32": True, "benchmark": True, "deterministic": False}
    assert backend_settings(cuda, tf32=True, deterministic=True) == {"tf32": False, "benchmark": False, "deterministic": True}
    assert backend_settings(cpu, tf32=True, deterministic=False)["tf32"] is False


def test_each_rank_takes_its_own_rng_state() -> None:
    states = [torch.full((4,), r, dtype=torch.uint8) for r in range(3)]
    state = {"rng": states[0], "cuda_rng": None, "rng_ranks": states, "cuda_rng_ranks": [None] * 3}
    for rank in range(3):
        assert torch.equal(rank_rng(state, Dist(rank, 3).rank)[0], states[rank])
    legacy = {"rng": states[0], "cuda_rng": None}  # a checkpoint from before per-rank states
    assert torch.equal(rank_rng(legacy, 1)[0], states[0])


def test_readme_departures_name_each_one() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Training follows the official scripts"): text.index("### Metrics name their protocol")]
    for needle in ("contrast_weight", "50", "--deterministic", "TF32", "with replacement", "uint8", "mix5+spa", "149k", "94k", "795k"):
        assert needle in section, needle
