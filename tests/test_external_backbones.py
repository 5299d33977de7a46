"""spandrel-backed backbones: training, published weights as a start (`--init`), `zoo convert`, licences.

Shapes, gradients and modulation-off == plain are held for every backbone in tests/test_backbones.py.
Backbones of spandrel-extra-arches are registered only when it is installed: their cases are then
collected like the others, and tests about the extra skip without it.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import zoo
from tests.cli_runner import run_cli
from zoo.catalog import external
from zoo.catalog.external import EXTERNAL, spandrel_class
from zoo.coic import ContextPattern, ModulatedContextPoint, coicify, context_of
from zoo.errors import CheckpointError, UnknownNameError, ZooError
from zoo.models.convert.external import _registry, convert_external
from zoo.training import TrainConfig, Trainer

SPANDREL = [n for n in zoo.list_models() if zoo.model_info(n).source == "spandrel"]
REPO = Path(__file__).resolve().parents[1]
FAST = {"batch": 2, "crop": 32, "synth_count": 8, "synth_size": 48}


def _published_like(name: str, path: Path, **changes: object) -> torch.nn.Module:
    """A spandrel model of `name`'s tiny config (plus `changes`) with random weights, saved as a .pth."""
    arch = EXTERNAL[name]
    kwargs = arch.to_spandrel({**arch.configs["tiny"], **changes})
    kwargs.pop("noise_level", None)
    torch.manual_seed(1)
    model = spandrel_class(arch)(**kwargs).eval()
    with torch.no_grad():  # move every weight off its initial value (NAFNet starts its residual scales at 0)
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))
    torch.save({"params": model.state_dict()}, path)  # wrapped as BasicSR-style releases are
    return model


def _spandrel_output(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """(input, spandrel's own output for it): spandrel's descriptor call, clamped to [0, 1] as it does.

    spandrel's DRUNet call always appends a noise-level map, which a 3-channel DRUNet (our tiny
    config) does not take: that one runs spandrel's module itself.
    """
    descriptor = _registry().load(torch.load(path, weights_only=True))
    x = torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(5))  # every size requirement met
    with torch.no_grad():
        hp = descriptor.model.hyperparameters
        if descriptor.architecture.id == "DRUNet" and hp["in_nc"] == hp["out_nc"]:
            return x, descriptor.model(x).clamp(0, 1)
        return x, descriptor(x)


@pytest.mark.parametrize("name", zoo.list_models())
def test_every_card_names_its_code_and_licence(name: str) -> None:
    # Recorded parameter counts are checked for every backbone in tests/test_backbones.py.
    spec = zoo.model_info(name)
    assert spec.source in ("zoo", "spandrel")
    assert spec.license and spec.code.startswith("https://github.com/")


@pytest.mark.parametrize("name", SPANDREL)
def test_a_few_training_steps_lower_the_loss(name: str) -> None:
    """Backbone, modulation and encoder train together (train mode: drop-path and other training branches on)."""
    torch.manual_seed(0)
    model = zoo.create_model(name, coic=True).train()
    gen = torch.Generator().manual_seed(0)
    clean = F.avg_pool2d(torch.rand(2, 3, 36, 36, generator=gen), 5, stride=1)  # smooth 32x32 backgrounds
    streaks = (torch.rand(2, 1, 32, 32, generator=gen) > 0.93).float()
    rainy = (clean + 0.6 * F.max_pool2d(streaks, (5, 1), stride=1, padding=(2, 0))).clamp(0, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def loss() -> torch.Tensor:
        return F.l1_loss(model(rainy), clean)

    def measured() -> float:
        torch.manual_seed(7)  # the same drop-path draws before and after
        with torch.no_grad():
            return loss().item()

    before = measured()
    for _ in range(6):
        optimizer.zero_grad(set_to_none=True)
        loss().backward()
        optimizer.step()
    after = measured()
    assert after < before, f"{name}: loss {before:.4f} -> {after:.4f}"


@pytest.mark.parametrize("name", SPANDREL)
def test_init_and_convert_reproduce_the_spandrel_model(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.pth"
    _published_like(name, path)
    x, expected = _spandrel_output(path)

    converted, summary = convert_external(path, tmp_path / "folder")
    assert summary["backbone"] == name
    loaded = zoo.create_model(f"local-dir:{tmp_path / 'folder'}")
    config = json.loads((tmp_path / "folder" / "config.json").read_text())
    assert config["config"] == "paper" and config["source"]["license"] == EXTERNAL[name].license

    trainer = Trainer(TrainConfig(name, coic=True, init=str(path), iters=1, **FAST), tmp_path / "run")
    started = trainer.model.eval()
    started.modulation = False  # stage 1 starts from the plain backbone
    with torch.no_grad():
        for model in (converted, loaded, started):
            assert torch.equal(model(x).clamp(0, 1), expected)


def test_drunet_noise_level_map_matches_spandrel(tmp_path: Path) -> None:
    """A published DRUNet takes RGB plus a constant noise-level map; the adapter appends it as spandrel does."""
    path = tmp_path / "drunet_color.pth"
    _published_like("drunet", path, in_nc=4)
    x, expected = _spandrel_output(path)
    converted, _ = convert_external(path, tmp_path / "folder", backbone="drunet")
    with torch.no_grad():
        assert torch.equal(converted(x).clamp(0, 1), expected)


def test_init_checks_the_file_against_the_config(tmp_path: Path) -> None:
    path = tmp_path / "nafnet.pth"
    _published_like("nafnet", path, width=16)
    with pytest.raises(CheckpointError, match=r"nafnet\.pth: a nafnet checkpoint that does not fit config 'tiny': it has width=16") as err:
        Trainer(TrainConfig("nafnet", coic=False, init=str(path), iters=1, **FAST), tmp_path / "run")
    assert "\n" not in str(err.value)
    with pytest.raises(CheckpointError, match=r"a NAFNet checkpoint \(nafnet\), not uformer; pass --backbone nafnet"):
        Trainer(TrainConfig("uformer", coic=False, init=str(path), iters=1, **FAST), tmp_path / "run2")
    with pytest.raises(UnknownNameError, match="coic-zoo's own backbone"):
        Trainer(TrainConfig("brn", coic=False, init=str(path), iters=1, **FAST), tmp_path / "run3")


def test_files_spandrel_does_not_take_are_named(tmp_path: Path) -> None:
    torch.save({"conv.weight": torch.zeros(3, 3, 3, 3)}, tmp_path / "unknown.pth")
    with pytest.raises(CheckpointError, match="unknown.pth: spandrel recognises no architecture"):
        convert_external(tmp_path / "unknown.pth", tmp_path / "out")
    from spandrel.architectures.DnCNN import DnCNN  # spandrel reads it, but it is not registered here

    torch.save(DnCNN(in_nc=3, out_nc=3, nc=8, nb=5).state_dict(), tmp_path / "dncnn.pth")
    with pytest.raises(CheckpointError, match="dncnn.pth: a DnCNN checkpoint"):
        convert_external(tmp_path / "dncnn.pth", tmp_path / "out")
    (tmp_path / "pickled.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="pickled.pth: not a readable checkpoint"):
        convert_external(tmp_path / "pickled.pth", tmp_path / "out")


def test_cli_convert_then_derain_and_train_from_init(tmp_path: Path, monkeypatch, capsys) -> None:
    path = tmp_path / "swinir_dn.pth"
    _published_like("swinir", path)
    folder = tmp_path / "models" / "swinir"
    code, out, err = run_cli(["convert", str(path), "--out", str(folder)], monkeypatch, capsys)
    assert code == 0, err
    assert "swinir, read by spandrel" in out
    x, expected = _spandrel_output(path)
    with torch.no_grad():
        assert torch.equal(zoo.create_model(f"local-dir:{folder}")(x).clamp(0, 1), expected)

    run = tmp_path / "run"
    args = ["train", "swinir", "--coic", "--init", str(path), "--iters", "2", "--stage1-iters", "1", "--batch", "2",
            "--crop", "32", "--set", "synth_count=8", "--set", "synth_size=48", "--no-evaluate", "--no-progress", "--out", str(run)]
    code, out, err = run_cli(args, monkeypatch, capsys)
    assert code == 0, err
    assert json.loads((run / "config.json").read_text())["train"]["init"] == str(path)

    code, out, err = run_cli(["convert", str(path), "--backbone", "nafnet", "--out", str(tmp_path / "x")], monkeypatch, capsys)
    assert code == 2 and "not nafnet; pass --backbone swinir" in err and "Traceback" not in err


def test_models_and_info_show_source_licence_and_where_z_enters(monkeypatch, capsys) -> None:
    code, out, _ = run_cli(["models"], monkeypatch, capsys)
    assert code == 0
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 5}
    assert "spandrel" in rows["nafnet"] and "MIT" in rows["nafnet"]
    assert "zoo" in rows["brn"] and "unknown (no licence file)" in rows["brn"]
    assert "Apache-2.0" in rows["swinir"]
    code, out, _ = run_cli(["info", "uformer"], monkeypatch, capsys)
    assert code == 0
    assert "licence: MIT" in out and "'*.blocks.*.norm1'" in out
    model = zoo.create_model("uformer", coic=True)  # the card's pattern finds the 9 blocks' norms of the tiny config
    assert sum(isinstance(m, ModulatedContextPoint) for m in model.backbone.modules()) == 9


def test_listing_models_does_not_import_spandrel() -> None:
    code = (
        "import sys, zoo; from zoo.cli import main; sys.argv = ['zoo', 'models']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "zoo.model_info('nafnet').num_params('paper')\n"
        "assert 'spandrel' not in sys.modules, 'spandrel was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_missing_optional_package_is_named() -> None:
    missing = replace(EXTERNAL["restormer"], name="restormer_missing", module="no_such_package.architectures.Restormer")
    external._register(missing)
    with pytest.raises(UnknownNameError, match="restormer_missing' is not available: .*pip install"):
        zoo.model_info("restormer_missing")
    assert "restormer_missing" not in zoo.list_models()


def test_extra_arches_are_registered_when_installed() -> None:
    pytest.importorskip("spandrel_extra_arches")
    assert {"restormer", "mprnet", "mirnet2"} <= set(SPANDREL)
    assert zoo.model_info("restormer").license.startswith("Academic")


def test_mprnet_gives_its_stage_outputs() -> None:
    if "mprnet" not in SPANDREL:
        pytest.skip("needs spandrel-extra-arches")
    model = zoo.create_model("mprnet").eval()
    x = torch.rand(1, 3, 20, 28)
    with torch.no_grad():
        stages = model.forward_stages(x)
        assert len(stages) == 3 and all(s.shape == x.shape for s in stages)
        assert torch.equal(stages[-1], model(x))
    with pytest.raises(ZooError, match="one output"):
        zoo.create_model("nafnet").forward_stages(x)


class _Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 1), torch.nn.LayerNorm([8, 6, 6]))
        self.norm = torch.nn.GroupNorm(1, 8)
        self.out = torch.nn.Conv2d(8, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.norm(self.body(x)))


def test_context_patterns_attach_from_outside_and_survive_deepcopy() -> None:
    torch.manual_seed(0)
    plain = _Tiny()
    model = coicify(copy.deepcopy(plain), 4, context_points=[ContextPattern("norm")])
    assert set(model.state_dict()) - set(plain.state_dict()) == {f"norm.coic_point.embed.1.{p}" for p in ("weight", "bias")}
    x, z = torch.rand(2, 3, 6, 6), torch.randn(2, 4)
    with torch.no_grad():
        assert torch.equal(model(x), plain(x))  # no z: the plain model, bit for bit
        with context_of(model).use(z):
            modulated = model(x)
        assert not torch.equal(modulated, plain(x))
        twin = copy.deepcopy(model)  # an EMA copy: its hook must read its own point
        model.norm.coic_point.embed[1].weight.zero_()
        with context_of(twin).use(z):
            assert torch.equal(twin(x), modulated)
    with pytest.raises(ValueError, match="match no module"):
        coicify(_Tiny(), 4, context_points=[ContextPattern("*.attn")])
    with pytest.raises(ValueError, match="container 'body'"):
        coicify(_Tiny(), 4, context_points=[ContextPattern("body")])


def test_model_cards_carry_the_architecture_licence(tmp_path: Path) -> None:
    from zoo.models.hub import build_model_card

    path = tmp_path / "nafnet.pth"
    _published_like("nafnet", path)
    convert_external(path, tmp_path / "nafnet")
    card = build_model_card(tmp_path / "nafnet")
    assert card.data.license == "mit"
    assert "spandrel's implementation, upstream https://github.com/megvii-research/NAFNet; architecture licence: MIT" in card.text
    if "restormer" in SPANDREL:  # a licence the Hub has no id for goes in as "other", named
        path = tmp_path / "restormer.pth"
        _published_like("restormer", path)
        convert_external(path, tmp_path / "restormer")
        card = build_model_card(tmp_path / "restormer")
        assert (card.data.license, card.data.license_name) == ("other", "academic-public-non-commercial")
        assert "- Licence: other (academic-public-non-commercial)" in card.text
