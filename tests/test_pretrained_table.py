"""Every tag of the pretrained table says where its files are, and every packaged tag loads from the package.

A tag is a promise: `packaged` entries must load with the network blocked and match their recorded
sha256; `official` entries name each official file with its git blob id; an entry that names a Hub
repository records the sha256 of every file it expects there. The release step (pushing the packaged
folders to their Hub mirrors) is tested in tests/test_hub.py against the stand-in Hub.
"""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import pytest
import torch

import zoo
from zoo.errors import CheckpointError
from zoo.models import packaged
from zoo.models.files import CONFIG_FILE, ENCODER_FILE, METRICS_FILE, MODEL_FILE, sha256_file
from zoo.models.pretrained import list_pretrained, pretrained_cfg

TAGS = list_pretrained()
PACKAGED = [name for name in TAGS if pretrained_cfg(name).where == "packaged"]
SYNTHMIX_DOMAINS = 8


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hub offline and every name lookup refused: a load that reaches for the network fails loudly."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network blocked in this test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("name", TAGS)
def test_every_listed_tag_says_where_its_files_are(name: str) -> None:
    cfg = pretrained_cfg(name)
    assert cfg.where in ("packaged", "official", "hub")
    assert {CONFIG_FILE, MODEL_FILE} <= set(cfg.files) and (ENCODER_FILE in cfg.files) == cfg.coic
    if cfg.hf_hub_id is not None:  # a Hub repository is only listed with the hashes that check it
        assert all(re.fullmatch(r"[0-9a-f]{64}", sha or "") for sha in cfg.files.values()), cfg.files
    if cfg.where == "official":
        assert cfg.origin_url.startswith("https://github.com/Schizophreni/CoIC/")
        for item in cfg.official_files:
            assert re.fullmatch(r"[0-9a-f]{40}", item.git_blob), item
    assert cfg.license and cfg.source and cfg.train_data


def test_the_synthmix_tags_and_the_official_brn_baseline_are_packaged() -> None:
    assert PACKAGED == ["brn.baseline_synthmix", "brn.coic_synthmix", "brn.official_baseline"]


@pytest.mark.parametrize("name", PACKAGED)
def test_packaged_tag_loads_offline_and_matches_its_hashes(name: str, no_network: None) -> None:
    cfg = pretrained_cfg(name)
    folder = packaged.packaged_folder(cfg)
    extras = {p.name for p in folder.iterdir()} - set(cfg.files)
    assert extras == ({"LICENSE"} if cfg.official_files else {METRICS_FILE})  # the official licence, or our scores
    for file, expected in cfg.files.items():
        assert sha256_file(folder / file) == expected
    model = zoo.create_model(name)
    assert model.pretrained_cfg is cfg and isinstance(model, zoo.CoICModel) == cfg.coic
    same = zoo.create_model(cfg.backbone, coic=cfg.coic, pretrained=cfg.tag)
    x = torch.rand(1, 3, 40, 44, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(model(x), same(x))


@pytest.mark.parametrize("name", [n for n in PACKAGED if pretrained_cfg(n).train_data == "synthmix"])
def test_packaged_models_beat_the_input_on_every_synthmix_domain(name: str) -> None:
    """What the model card and leaderboards/pretrained.md report: the packaged metrics.json rows."""
    import json

    rows = json.loads((packaged.packaged_path(pretrained_cfg(name)) / METRICS_FILE).read_text())["rows"]
    psnr = {r["eval_dataset"]: r for r in rows if r["metric"] == "psnr"}
    rainy = {r["eval_dataset"]: r["value"] for r in rows if r["metric"] == "input_psnr"}
    assert len(psnr) == SYNTHMIX_DOMAINS and rainy.keys() == psnr.keys()
    for dataset, row in psnr.items():
        assert row["run"] == name and row["protocol"] == "y-matlab"
        assert row["value"] > rainy[dataset] + 1.0, dataset  # a clear margin over the rainy input


def test_a_changed_packaged_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = pretrained_cfg("brn.coic_synthmix")
    copy = tmp_path / cfg.name
    shutil.copytree(packaged.packaged_path(cfg), copy)
    monkeypatch.setattr(packaged, "PACKAGED_ROOT", tmp_path)
    good = (copy / MODEL_FILE).read_bytes()
    data = bytearray(good)
    data[-3] ^= 0xFF
    (copy / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=f"{MODEL_FILE}: sha256 .* recorded for {cfg.name}.*reinstall"):
        zoo.create_model(cfg.name)
    (copy / MODEL_FILE).write_bytes(good)
    assert zoo.create_model(cfg.name).pretrained_cfg is cfg
    (copy / ENCODER_FILE).unlink()
    with pytest.raises(CheckpointError, match=f"{ENCODER_FILE}: missing from the installed coic-zoo package"):
        zoo.create_model(cfg.name)


def test_packaged_folders_are_package_data() -> None:
    """pyproject.toml ships every file of the packaged folders (a wheel without them would break the tags)."""
    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert '"models/assets/pretrained/*/*"' in text


def test_derain_with_the_packaged_official_baseline_works_offline(
    tmp_path: Path, no_network: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fresh install with no network derains a photo at once with the packaged tag (the README's first
    `zoo derain`), lists which tags work offline, and asks for MODEL IMAGES when given nothing."""
    import numpy as np
    from PIL import Image

    from tests.cli_runner import run_cli

    Image.fromarray(np.random.default_rng(1).integers(0, 256, (40, 52, 3), dtype=np.uint8)).save(tmp_path / "my_photo.jpg")
    code, out, err = run_cli(["derain", "brn.official_baseline", str(tmp_path / "my_photo.jpg"), "--out", str(tmp_path / "out")],
                             monkeypatch, capsys)
    assert code == 0, err
    assert "with brn.official_baseline" in out and not err
    assert np.asarray(Image.open(tmp_path / "out" / "my_photo.png")).shape == (40, 52, 3)
    code, out, err = run_cli(["derain", "--list"], monkeypatch, capsys)
    assert code == 0, err
    offline = [line for line in out.splitlines() if "offline" in line]
    assert {name for name in PACKAGED if any(name in line for line in offline)} == set(PACKAGED)
    assert "download" in out and "rcdnet.official_coic" in out
    code, _, err = run_cli(["derain"], monkeypatch, capsys)
    assert code == 2 and "zoo derain MODEL IMAGES..." in err
