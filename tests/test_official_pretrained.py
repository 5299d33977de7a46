"""Official-checkpoint tags: table entries, offline message, convert on first use (no network: file:// and pre-placed files)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import zoo
from zoo.errors import CheckpointError, ZooError
from zoo.models.official import BASE_URL_ENV, base_url, fetch_official, git_blob_sha1, official_root
from zoo.models.pretrained import OFFICIAL_COMMIT, OfficialFile, PretrainedCfg, list_pretrained, pretrained_cfg

FIXTURES = Path(__file__).parent / "fixtures" / "official"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Hugging Face cache, online (no network is used: every URL below is file://)."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    return tmp_path / "hf"


def serve(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BASE_URL_ENV, tree.as_uri() + "/")


def go_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _fixture_state(name: str) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], dict]:
    tensors = load_file(str(FIXTURES / f"{name}.safetensors"))
    meta = json.loads((FIXTURES / f"{name}.json").read_text())
    return (
        {k: v for k, v in tensors.items() if not k.startswith("__")},
        {k: v for k, v in tensors.items() if k.startswith("__")},
        meta,
    )


def reduced_coic_brn(tree: Path) -> PretrainedCfg:
    """A reduced-width official BRN + MoCo encoder (the parity fixtures) laid out as the repository lays them out."""
    state, _, meta = _fixture_state("brn")
    enc_state, _, _ = _fixture_state("encoder")
    files = []
    for role, path, tensors in (
        ("model", "checkpoints/CoIC/brn_model.pth", state),
        ("encoder", "checkpoints/CoIC/brn_enc.pth", enc_state),
    ):
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        torch.save(tensors, tree / path)
        files.append(OfficialFile(role, path, git_blob_sha1(tree / path)))
    base = pretrained_cfg("brn.official_coic")
    return dataclasses.replace(
        base,
        tag="official_coic_reduced",
        model_args=meta["ours"],
        official_files=tuple(files),
        files={k: None for k in base.files},
    )


def test_table_points_at_the_official_files_at_the_pinned_commit() -> None:
    assert list_pretrained("*official*") == [
        "brn.official_baseline",
        "brn.official_coic",
        "rcdnet.official_baseline",
        "rcdnet.official_coic",
    ]
    paths = set()
    for name in list_pretrained("*official*"):
        cfg = pretrained_cfg(name)
        assert cfg.official_files and cfg.license == "mit" and OFFICIAL_COMMIT in cfg.source
        roles = [f.role for f in cfg.official_files]
        assert roles == (["model", "encoder"] if cfg.coic else ["model"])
        for item in cfg.official_files:
            assert len(item.git_blob) == 40 and item.path.startswith("checkpoints/")
            paths.add(item.path)
    assert paths == {
        f"checkpoints/{d}/{f}.pth"
        for d, f in [
            ("CoIC", "brn_model"),
            ("CoIC", "brn_enc"),
            ("CoIC", "rcdnet_model"),
            ("CoIC", "rcdnet_enc"),
            ("Baseline", "brn_model"),
            ("Baseline", "rcdnet_model"),
        ]
    }
    assert base_url() == f"https://raw.githubusercontent.com/Schizophreni/CoIC/{OFFICIAL_COMMIT}/"
    assert pretrained_cfg("brn.official_coic").official_files[0].sha256.startswith("ff60c7db")


def test_offline_without_the_file_says_which_file_and_where_to_put_it(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    go_offline(monkeypatch)
    with pytest.raises(ZooError) as info:
        zoo.create_model("rcdnet.official_coic")
    message = str(info.value)
    target = official_root() / "checkpoints/CoIC/rcdnet_model.pth"
    assert "\n" not in message and "HF_HUB_OFFLINE" in message
    assert f"{base_url()}checkpoints/CoIC/rcdnet_model.pth" in message and str(target) in message
    assert "zoo convert rcdnet_model.pth --backbone rcdnet --encoder rcdnet_enc.pth --out DIR" in message
    assert str(cache) in str(target)


def test_unreachable_source_gives_the_same_message(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(tmp_path / "empty", monkeypatch)  # online, but the file is not there
    with pytest.raises(
        ZooError, match=r"needs the official checkpoints/Baseline/rcdnet_model.pth and the download failed"
    ):
        zoo.create_model("rcdnet.official_baseline")


def test_converted_on_first_use_then_served_from_the_cache(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = tmp_path / "repo"
    cfg = reduced_coic_brn(tree)
    serve(tree, monkeypatch)
    folder = fetch_official(cfg)
    assert folder == official_root() / "converted" / cfg.name
    assert (official_root() / "checkpoints/CoIC/brn_enc.pth").is_file()  # the download is kept in the cache
    model = zoo.create_model(f"local-dir:{folder}")
    assert isinstance(model, zoo.CoICModel) and model.encoder_size == 128
    _, extra, _ = _fixture_state("brn")
    with torch.no_grad():
        z = model.key_encoder(
            torch.nn.functional.interpolate(extra["__input__"], size=(128, 128), mode="bilinear", antialias=True)
        )[0]
        assert float((model(extra["__input__"], z=extra["__z__"]) - extra["__out_tran__"]).abs().max()) <= 1e-5
        assert torch.equal(model(extra["__input__"]), model(extra["__input__"], z=z))  # z from encoder_k
    shutil.rmtree(tree)
    go_offline(monkeypatch)
    assert fetch_official(cfg) == folder  # no source, no network: the converted folder is reused


def test_pre_placed_file_converts_offline_and_a_wrong_file_is_refused(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = tmp_path / "repo"
    cfg = reduced_coic_brn(tree)
    go_offline(monkeypatch)
    for item in cfg.official_files:
        (official_root() / item.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(tree / item.path, official_root() / item.path)
    assert (fetch_official(cfg) / "encoder.safetensors").is_file()
    shutil.rmtree(official_root() / "converted")
    torch.save({"conv1.weight": torch.zeros(1)}, official_root() / cfg.official_files[1].path)
    with pytest.raises(CheckpointError, match="git blob .* is not .*checkpoints/CoIC/brn_enc.pth"):
        fetch_official(cfg)


def test_official_brn_baseline_converts_to_the_packaged_bytes(
    official_dir: Path, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real checkpoint (../shared), served by file://: verified by git blob and sha256 and converted on
    first use byte for byte into the folder coic-zoo packages; the tag itself loads from the package."""
    from zoo.models.packaged import packaged_folder

    tree = tmp_path / "repo"
    (tree / "checkpoints/Baseline").mkdir(parents=True)
    shutil.copy(official_dir / "brn_baseline.pth", tree / "checkpoints/Baseline/brn_model.pth")
    serve(tree, monkeypatch)
    cfg = pretrained_cfg("brn.official_baseline")
    converted, shipped = fetch_official(cfg), packaged_folder(cfg)
    for file in cfg.files:
        assert (converted / file).read_bytes() == (shipped / file).read_bytes()
    model = zoo.create_model("brn.official_baseline")
    assert model.pretrained_cfg.name == "brn.official_baseline" and not isinstance(model, zoo.CoICModel)
    direct, _ = zoo.models.convert.convert_official(official_dir / "brn_baseline.pth", "brn", tmp_path / "direct")
    x = torch.rand(1, 3, 24, 28)
    with torch.no_grad():
        assert torch.equal(model(x), direct(x))


def test_cli_pull_converts_an_official_tag_and_reports_offline_in_one_line(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli_runner import run_cli
    from zoo.models import pretrained

    cfg = reduced_coic_brn(tmp_path / "repo")
    serve(tmp_path / "repo", monkeypatch)
    monkeypatch.setitem(pretrained._PRETRAINED, cfg.name, cfg)
    code, out, _ = run_cli(["pull", cfg.name], monkeypatch, capsys)
    assert code == 0 and "encoder.safetensors" in out
    assert (official_root() / "converted" / cfg.name / "encoder.safetensors").is_file()
    go_offline(monkeypatch)
    code, out, err = run_cli(["pull", "rcdnet.official_baseline"], monkeypatch, capsys)
    assert code == 2 and "Traceback" not in err
    assert "checkpoints/Baseline/rcdnet_model.pth" in err and "zoo convert rcdnet_model.pth --backbone rcdnet" in err
