"""Hub integration against a stand-in Hub on 127.0.0.1: push, pull, cache, offline, hashes, cards, CLI.

Every test runs with its own empty Hugging Face cache (`HF_HOME`/`HF_HUB_CACHE` under tmp_path) and
`HF_ENDPOINT` pointing at loopback, so nothing leaves the machine; the stand-in server
(`tests/hub_server.py`) stops at the end of each test, or by itself after a minute.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from huggingface_hub import ModelCard, constants
from safetensors.torch import load_file
from torch import nn

import zoo
from tests.cli_runner import run_cli
from tests.hub_server import HubServer
from zoo.errors import CheckpointError, UnknownNameError, ZooError
from zoo.models.checkpoint import save_model_dir
from zoo.models.hub import build_model_card, pull, push_run
from zoo.models.pretrained import PretrainedCfg, list_pretrained, pretrained_cfg

REPO = "org/brn-test"
PACKAGE = Path(__file__).resolve().parents[1] / "zoo"
DEAD_ENDPOINT = "http://127.0.0.1:9"  # loopback port with nothing listening: a stray request fails at once

ROWS = [
    {"eval_dataset": "synthmix-light", "metric": "psnr", "value": 27.125},
    {"eval_dataset": "synthmix-light", "metric": "ssim", "value": 0.8125},
    {"eval_dataset": "synthmix-heavy", "metric": "psnr", "value": 21.5},
    {"eval_dataset": "synthmix-heavy", "metric": "ssim", "value": 0.625},
]


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Tiny models: one thread is faster, and far faster when other jobs share the CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def hf_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty cache per test, a dummy token, and every Hub address on loopback."""
    home = tmp_path / "hf"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_TOKEN", "hf_dummy")
    monkeypatch.setenv("HF_ENDPOINT", DEAD_ENDPOINT)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    # huggingface_hub fetches an "agent harness" list from its import-time endpoint once per process;
    # an empty cached list stops that request.
    from huggingface_hub.utils import _detect_agent

    empty = getattr(_detect_agent, "_EMPTY_REGISTRY", {"standardEnvVars": [], "harnesses": {}})
    monkeypatch.setattr(_detect_agent, "_registry", empty, raising=False)
    refused: list[str] = []
    real = socket.getaddrinfo

    def loopback_only(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host not in ("127.0.0.1", "localhost", "::1"):
            refused.append(str(host))
            raise OSError(f"test_hub is loopback-only: refused to resolve {host!r}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    yield home / "hub"
    assert not refused, f"requests left loopback: {refused}"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch):
    with HubServer(lifetime=60) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


def make_run(folder: Path, coic: bool = True, **build: object) -> nn.Module:
    """A tiny run folder: model files plus metrics.json rows; returns the model in eval mode."""
    model = zoo.create_model("brn", coic=coic, **build)
    save_model_dir(model, folder)
    rows = [
        {
            "run": folder.name,
            "backbone": "brn",
            "config": "tiny",
            "coic": coic,
            "train_data": "synthmix",
            "protocol": "y-matlab",
            "n_images": 4,
            "iterations": 20,
            "seed": 0,
            "source": "measured",
            **row,
        }
        for row in ROWS
    ]
    rows.append({**rows[0], "value": 99.0, "source": "reported"})  # a paper figure: not this model's result
    (folder / "metrics.json").write_text(json.dumps({"rows": rows}))
    return model.eval()


def outputs(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(x)


HUB_COIC, HUB_BASELINE = "brn.coic_hubonly", "brn.baseline_hubonly"


@pytest.fixture
def hub_tags(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two table entries served by the Hub alone, without hashes, so a test can push its own runs there.

    The shipped table has none such (`test_every_listed_tag_says_where_its_files_are`); these stand for a
    tag whose repository exists before its hashes are recorded, the Hub's own sha256 being the check.
    """
    from zoo.models import pretrained

    for method, tag in (("coic", HUB_COIC), ("baseline", HUB_BASELINE)):
        files = {"config.json": None, "model.safetensors": None, **({"encoder.safetensors": None} if method == "coic" else {})}
        cfg = PretrainedCfg(backbone="brn", tag=tag.partition(".")[2], hf_hub_id=f"coic-zoo/{tag}", method=method,
                            train_data="synthmix", license="mit", files=files)
        monkeypatch.setitem(pretrained._PRETRAINED, cfg.name, cfg)


@pytest.fixture
def run(tmp_path: Path) -> tuple[Path, nn.Module]:
    folder = tmp_path / "run-coic"
    return folder, make_run(folder)


def flip(data: bytes, at: int = -5) -> bytes:
    out = bytearray(data)
    out[at] ^= 0xFF
    return bytes(out)


def card_results(card: ModelCard) -> dict[tuple[str, str], float]:
    return {(r.dataset_name, r.metric_type): r.metric_value for r in card.data.eval_results}


# --- push / pull round trip --------------------------------------------------------------------------


def test_push_pull_load_is_bit_identical(run, hub: HubServer, hf_env: Path) -> None:
    folder, model = run
    url = push_run(folder, REPO, token="hf_dummy")
    assert url.endswith(REPO)
    calls = [c for c in hub.log if "agent-harnesses" not in c[1]]
    assert [c[0] for c in calls[:1]] == ["POST"] and calls[0][1] == "/api/repos/create"
    assert set(hub.repos[REPO].commits[hub.repos[REPO].refs["main"]]) == {
        "config.json",
        "model.safetensors",
        "encoder.safetensors",
        "README.md",
    }

    assert not hf_env.exists() or not any(hf_env.iterdir())
    snapshot = pull(REPO)
    assert snapshot.is_relative_to(hf_env / "models--org--brn-test" / "snapshots")
    assert (hf_env / "models--org--brn-test" / "refs" / "main").read_text() == snapshot.name
    loaded = zoo.create_model(f"hf-hub:{REPO}")
    assert isinstance(loaded, zoo.CoICModel) and not loaded.training
    x = torch.rand(2, 3, 24, 20)
    assert torch.equal(outputs(loaded, x), outputs(model, x))

    # The pulled card parses back and carries the measured results, not the reported row.
    card = ModelCard.load(snapshot / "README.md")
    assert card.data.library_name == "coic-zoo" and card.data.license == "mit"
    assert {"deraining", "image-restoration", "coic", "brn"} <= set(card.data.tags)
    assert card.data.datasets == ["synthmix"]
    assert card_results(card) == {(r["eval_dataset"], r["metric"]): r["value"] for r in ROWS}
    assert "2404.12091" in card.text and "hf-hub:org/brn-test" in card.text


def test_pushing_again_and_pulling_by_commit(run, hub: HubServer) -> None:
    folder, model = run
    push_run(folder, REPO, token="hf_dummy")
    first = hub.repos[REPO].refs["main"]
    make_run(folder)  # new weights, same repository
    push_run(folder, f"hf-hub:{REPO}", token="hf_dummy")
    assert hub.repos[REPO].refs["main"] != first
    old = zoo.create_model(f"hf-hub:{REPO}@{first}")
    x = torch.rand(1, 3, 24, 24)
    assert torch.equal(outputs(old, x), outputs(model, x))


def test_model_card_offline(run) -> None:
    folder, _ = run
    card = build_model_card(folder, repo_id="coic-zoo/brn.coic_synthmix")
    path = folder / "card.md"
    card.save(path)
    loaded = ModelCard.load(path)
    assert loaded.data.model_name == "brn.coic_synthmix"
    assert card_results(loaded) == {(r["eval_dataset"], r["metric"]): r["value"] for r in ROWS}
    names = {r.metric_name for r in loaded.data.eval_results}
    assert names == {"PSNR (y-matlab)", "SSIM (y-matlab)"}
    assert all(r.task_type == "image-to-image" for r in loaded.data.eval_results)
    index = loaded.data.to_dict()["model-index"][0]["results"]
    assert len(index) == 2  # one entry per eval dataset, holding PSNR and SSIM
    for file in ("config.json", "model.safetensors", "encoder.safetensors"):
        assert hashlib.sha256((folder / file).read_bytes()).hexdigest() in loaded.text


def test_card_without_metrics_and_bad_metrics(tmp_path: Path) -> None:
    save_model_dir(zoo.create_model("brn"), tmp_path / "m")
    card = build_model_card(tmp_path / "m")
    assert card.data.eval_results is None and "baseline" in card.data.tags
    (tmp_path / "m" / "metrics.json").write_text("{not json")
    with pytest.raises(ZooError, match="metrics.json: not valid JSON"):
        build_model_card(tmp_path / "m")


def test_push_refuses_bad_input(tmp_path: Path, run, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, _ = run
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ZooError, match="HF_HUB_OFFLINE is set"):
        push_run(folder, REPO, token="hf_dummy")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    with pytest.raises(ZooError, match="not a Hub repository id"):
        push_run(folder, "no-slash", token="hf_dummy")
    with pytest.raises(CheckpointError, match="no such model folder"):
        push_run(tmp_path / "absent", REPO, token="hf_dummy")


# --- pretrained table --------------------------------------------------------------------------------


def test_table_lists_tags_with_provenance() -> None:
    assert list_pretrained("brn.*") == [
        "brn.baseline_synthmix",
        "brn.coic_synthmix",
        "brn.official_baseline",
        "brn.official_coic",
    ]
    assert list_pretrained("*official*") == [
        "brn.official_baseline",
        "brn.official_coic",
        "rcdnet.official_baseline",
        "rcdnet.official_coic",
    ]
    official = pretrained_cfg("brn.official_coic")
    assert official.where == "official" and official.hf_hub_id is None and official.method == "coic"
    assert official.license == "mit" and "8c99e733ab25869bf87cd720b9a6a65d62914dd6" in official.source
    assert "2404.12091" in official.citation
    synthmix = pretrained_cfg("brn.coic_synthmix")
    assert synthmix.where == "packaged" and synthmix.hf_hub_id == "coic-zoo/brn.coic_synthmix"
    assert set(synthmix.files) == {"config.json", "model.safetensors", "encoder.safetensors"}
    assert all(sha is not None for sha in synthmix.files.values())


def test_unknown_tag_and_method_conflict_are_clear() -> None:
    with pytest.raises(
        UnknownNameError, match="unknown pretrained tag 'coic_synthmx'.*did you mean 'coic_synthmix'.*official_coic"
    ):
        zoo.create_model("brn.coic_synthmx")
    with pytest.raises(UnknownNameError, match="unknown backbone 'brm'"):
        zoo.create_model("brm.coic_synthmix")
    with pytest.raises(ZooError, match="baseline weights.*coic=True.*brn.coic_synthmix"):
        zoo.create_model("brn", coic=True, pretrained="baseline_synthmix")
    with pytest.raises(ZooError, match="baseline weights"):
        zoo.create_model("brn.official_baseline", coic=True)
    with pytest.raises(ZooError, match="contradicts"):
        zoo.create_model("brn.coic_synthmix", pretrained="baseline_synthmix")
    with pytest.raises(ZooError, match="looks like a path"):
        zoo.create_model("runs/brn")
    with pytest.raises(UnknownNameError, match="names no pretrained tag"):
        pull("brn")


def test_pretrained_false_builds_the_tag_architecture_without_download() -> None:
    model = zoo.create_model("brn.official_coic", pretrained=False)
    assert isinstance(model, zoo.CoICModel) and model.backbone.iterations == 8


def test_tag_equals_backbone_with_pretrained(tmp_path: Path, hub: HubServer, hub_tags: None) -> None:
    model = make_run(tmp_path / "run")
    push_run(tmp_path / "run", f"coic-zoo/{HUB_COIC}", token="hf_dummy")
    by_tag = zoo.create_model(HUB_COIC)
    by_arg = zoo.create_model("brn", coic=True, pretrained=HUB_COIC.partition(".")[2])
    x = torch.rand(1, 3, 24, 28)
    expected = outputs(model, x)
    for loaded in (by_tag, by_arg):
        assert loaded.pretrained_cfg.name == HUB_COIC
        assert torch.equal(outputs(loaded, x), expected)
    default = zoo.create_model("brn", coic=True, pretrained=True)  # the first CoIC tag of brn: the packaged one
    assert default.pretrained_cfg.name == "brn.coic_synthmix"


def test_repository_that_contradicts_its_table_entry_is_refused(tmp_path: Path, hub: HubServer, hub_tags: None) -> None:
    make_run(tmp_path / "run", coic=False)
    push_run(tmp_path / "run", f"coic-zoo/{HUB_COIC}", token="hf_dummy")
    with pytest.raises(CheckpointError, match="has no encoder.safetensors"):
        zoo.create_model(HUB_COIC)
    push_run(tmp_path / "run", f"coic-zoo/{HUB_BASELINE}", token="hf_dummy")
    assert not isinstance(zoo.create_model(HUB_BASELINE), zoo.CoICModel)


# --- offline -----------------------------------------------------------------------------------------


def go_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # huggingface_hub now refuses any HTTP request


def test_offline_loads_from_cache_without_network(run, monkeypatch: pytest.MonkeyPatch, hub_tags: None) -> None:
    folder, model = run
    with HubServer() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        push_run(folder, REPO, token="hf_dummy")
        push_run(folder, f"coic-zoo/{HUB_COIC}", token="hf_dummy")
        pull(REPO)
        pull(HUB_COIC)
    monkeypatch.setenv("HF_ENDPOINT", DEAD_ENDPOINT)
    go_offline(monkeypatch)
    x = torch.rand(1, 3, 24, 24)
    assert torch.equal(outputs(zoo.create_model(f"hf-hub:{REPO}"), x), outputs(model, x))
    assert torch.equal(outputs(zoo.create_model(HUB_COIC), x), outputs(model, x))


def test_offline_missing_model_names_repo_file_and_place(hf_env: Path, monkeypatch: pytest.MonkeyPatch, hub_tags: None) -> None:
    go_offline(monkeypatch)
    with pytest.raises(ZooError) as info:
        zoo.create_model(HUB_COIC)
    message = str(info.value)
    assert f"'coic-zoo/{HUB_COIC}'" in message and "model.safetensors" in message
    assert "HF_HUB_OFFLINE" in message and str(hf_env) in message and "local-dir:" in message
    assert "\n" not in message
    with pytest.raises(ZooError, match=r"config.json, model.safetensors of Hub repository 'org/brn-test'"):
        zoo.create_model(f"hf-hub:{REPO}")


def test_offline_partial_cache_names_only_the_missing_file(run, hf_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, _ = run
    with HubServer() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        push_run(folder, REPO, token="hf_dummy")
        snapshot = pull(REPO)
    (snapshot / "model.safetensors").unlink()
    go_offline(monkeypatch)
    with pytest.raises(
        ZooError, match=r"'org/brn-test': model.safetensors of Hub repository 'org/brn-test' \(revision main\) is not"
    ):
        pull(REPO)


def test_unreachable_hub_with_empty_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ZooError, match=r"could not be reached.*'org/brn-test'|'org/brn-test'.*could not be reached"):
        pull(REPO)


def test_missing_repository_online(hub: HubServer) -> None:
    with pytest.raises(ZooError, match="Hub repository 'org/absent' not found"):
        zoo.create_model("hf-hub:org/absent")


# --- hashes ------------------------------------------------------------------------------------------


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


# Every file of a model folder is checked: LFS files by sha256, git files (config.json) by git blob sha1.
TAMPERED = {
    "model.safetensors": ("sha256", lambda data: hashlib.sha256(data).hexdigest()),
    "encoder.safetensors": ("sha256", lambda data: hashlib.sha256(data).hexdigest()),
    "config.json": ("git blob sha1", git_blob_sha1),
}


@pytest.mark.parametrize("file", list(TAMPERED))
def test_tampered_download_is_refused(file: str, run, hub: HubServer) -> None:
    folder, _ = run
    push_run(folder, REPO, token="hf_dummy")
    good = hub.file(REPO, file)
    bad = flip(good)
    hub.tamper(REPO, file, bad)
    with pytest.raises(CheckpointError) as info:
        zoo.create_model(f"hf-hub:{REPO}")
    message = str(info.value)
    kind, digest = TAMPERED[file]
    assert f"org/brn-test/{file}: {kind} mismatch" in message
    assert digest(good) in message and digest(bad) in message


@pytest.mark.parametrize("file", list(TAMPERED))
def test_tampered_cache_is_refused_and_force_repairs(file: str, run, hub: HubServer) -> None:
    folder, model = run
    push_run(folder, REPO, token="hf_dummy")
    snapshot = pull(REPO)
    blob = (snapshot / file).resolve()
    good = blob.read_bytes()
    blob.write_bytes(flip(good))
    with pytest.raises(CheckpointError, match=f"{file}: {TAMPERED[file][0]} mismatch.*reported"):
        pull(REPO)
    pull(REPO, force=True)
    assert blob.read_bytes() == good
    x = torch.rand(1, 3, 24, 24)
    assert torch.equal(outputs(zoo.create_model(f"hf-hub:{REPO}"), x), outputs(model, x))


def test_table_hash_mismatch_is_refused(run, hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, _ = run
    push_run(folder, "org/pinned", token="hf_dummy")
    wrong = "0" * 64
    cfg = PretrainedCfg(
        backbone="brn",
        tag="pinned_test",
        hf_hub_id="org/pinned",
        method="coic",
        train_data="synthmix",
        license="mit",
        files={
            "config.json": hashlib.sha256((folder / "config.json").read_bytes()).hexdigest(),
            "model.safetensors": wrong,
            "encoder.safetensors": None,
        },
    )
    from zoo.models import pretrained

    monkeypatch.setitem(pretrained._PRETRAINED, cfg.name, cfg)
    with pytest.raises(
        CheckpointError,
        match=f"model.safetensors: sha256 mismatch, expected {wrong} \\(the pretrained table entry brn.pinned_test\\)",
    ):
        zoo.create_model("brn.pinned_test")
    with pytest.raises(CheckpointError, match="pretrained table"):
        pull("org/pinned")  # the repository of a table entry is checked by the table too
    pull("org/pinned", revision=hub.repos["org/pinned"].refs["main"])  # another revision: the Hub's sha256 only


# --- official checkpoints ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["baseline", "coic"])
def test_official_tags_round_trip(kind: str, official_dir: Path, tmp_path: Path, hub: HubServer) -> None:
    """The official tags convert the official file on first use (tests/test_official_pretrained.py); what that
    writes is pinned by the table's hashes, and a folder published on the Hub under the tag's repository id
    is verified against the same hashes."""
    from zoo.models.convert import convert_official

    cfg = pretrained_cfg(f"brn.official_{kind}")
    (tmp_path / "src").mkdir()
    shutil.copy(official_dir / f"brn_{kind}.pth", tmp_path / "src" / "brn_model.pth")  # the official file name
    local, _ = convert_official(tmp_path / "src" / "brn_model.pth", "brn", tmp_path / kind)
    for file, expected in cfg.files.items():
        if expected is not None:
            converted = hashlib.sha256((tmp_path / kind / file).read_bytes()).hexdigest()
            assert converted == expected, (
                f"`zoo convert` now writes another {file} for {cfg.name} ({converted}); if that is intended, "
                "record the new sha256 in zoo/models/pretrained.py"
            )
    assert cfg.files["model.safetensors"] is not None
    ref = load_file(str(official_dir / "reference.safetensors"))
    x, z = ref["input_0"], ref["z_0"]
    with torch.no_grad():
        want = local(x, z=z) if kind == "coic" else local(x)
    torch.testing.assert_close(want.clamp(0, 1), ref[f"{kind}_out_0"], atol=1e-4, rtol=0)
    if kind == "coic":
        return  # the table expects the official encoder too, which is not in ../shared
    push_run(tmp_path / kind, cfg.hf_hub_id, token="hf_dummy")
    snapshot = pull(f"hf-hub:{cfg.hf_hub_id}")  # verified against the table's hashes
    model = zoo.create_model(f"hf-hub:{cfg.hf_hub_id}")
    assert load_file(str(snapshot / "model.safetensors")).keys() == load_file(str(tmp_path / kind / "model.safetensors")).keys()
    with torch.no_grad():
        assert torch.equal(model(x), want)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


# --- no unpickling -----------------------------------------------------------------------------------


def test_every_torch_load_is_weights_only() -> None:
    calls = 0
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, filename=str(path))
        found = 0
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = ast.unparse(func)
            assert name not in ("pickle.load", "pickle.loads", "dill.load"), f"{path}:{node.lineno}: {name} unpickles"
            if name == "torch.load" or (
                isinstance(func, ast.Name) and func.id == "load" and "from torch import load" in source
            ):
                found += 1
                flags = {k.arg: k.value for k in node.keywords}
                assert isinstance(flags.get("weights_only"), ast.Constant) and flags["weights_only"].value is True, (
                    f"{path}:{node.lineno}: torch.load without weights_only=True"
                )
        assert found == source.count("torch.load(") - _in_text(source), (
            f"{path}: torch.load( used in a way the test cannot see"
        )
        calls += found
    assert calls >= 1  # the converter reads the official .pth files this way


def _in_text(source: str) -> int:
    """Occurrences of `torch.load(` inside strings and comments (documentation, not calls)."""
    import io
    import tokenize

    count = 0
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.STRING, tokenize.COMMENT):
            count += token.string.count("torch.load(")
    return count


# --- CLI ---------------------------------------------------------------------------------------------




def test_cli_push_and_pull(run, hub: HubServer, monkeypatch, capsys) -> None:
    folder, _ = run
    code, out, err = run_cli(["push", str(folder), "--repo", REPO, "--private"], monkeypatch, capsys)
    assert code == 0, err
    assert "hf-hub:org/brn-test" in out and hub.repos[REPO].private
    code, out, err = run_cli(["pull", REPO], monkeypatch, capsys)
    assert code == 0, err
    assert hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest() in out
    code, _, err = run_cli(["pull", "brn.nope"], monkeypatch, capsys)
    assert code == 2 and "unknown pretrained tag 'nope'" in err


def test_cli_derain(tmp_path: Path, monkeypatch, capsys) -> None:
    pytest.importorskip("zoo.evaluation")
    import numpy as np
    from PIL import Image

    model = make_run(tmp_path / "model", coic=True)
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (40, 52, 3), dtype=np.uint8)).save(photos / "a.jpg")
    Image.fromarray(rng.integers(0, 256, (36, 36), dtype=np.uint8)).save(photos / "b.png")  # grayscale
    (photos / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    out = tmp_path / "out"
    args = [
        "derain",
        f"local-dir:{tmp_path / 'model'}",
        str(photos / "a.jpg"),
        str(photos / "b.png"),
        "--out",
        str(out),
    ]
    code, _, err = run_cli(args, monkeypatch, capsys)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]
    restored = np.asarray(Image.open(out / "a.png"))
    assert restored.shape == (40, 52, 3)
    from zoo.data.images import read_photo as read_image
    from zoo.evaluation.inference import restore

    with torch.no_grad():
        expected = restore(model, read_image(photos / "a.jpg"))
    assert np.array_equal(restored, (expected[0].permute(1, 2, 0) * 255).round().byte().numpy())

    code, _, err = run_cli([*args, str(photos / "broken.png"), "--tile", "32", "--overlap", "8"], monkeypatch, capsys)
    assert code == 2
    assert f"{photos / 'broken.png'}: not a readable image" in err and "1 of 3 input(s) could not be read" in err

    for model_name, bad, expected_err in (
        ("brn", [], "untrained architecture"),
        ("local-dir:" + str(tmp_path / "model"), ["--out", str(photos)], "would be overwritten"),
        ("local-dir:" + str(tmp_path / "model"), ["--tile", "32", "--overlap", "40"], "--overlap 40"),
    ):
        code, _, err = run_cli(["derain", model_name, str(photos / "b.png"), *bad], monkeypatch, capsys)
        assert code == 2 and expected_err in err, err
    code, _, err = run_cli(["derain", "brn.coic_synthmix", str(tmp_path / "nope.jpg")], monkeypatch, capsys)
    assert code == 2 and "nope.jpg: no such file" in err
    assert os.environ["HF_TOKEN"] == "hf_dummy"


# --- packaged tags -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["brn.coic_synthmix", "brn.baseline_synthmix"])
def test_release_step_mirrors_the_packaged_bytes(name: str, hub: HubServer) -> None:
    """The README's release step, `zoo push <packaged folder> --repo <hf_hub_id>`: the Hub then serves the
    same bytes, checked against the table's hashes, and the card carries the measured scores."""
    from zoo.models.packaged import packaged_folder

    cfg = pretrained_cfg(name)
    folder = packaged_folder(cfg)
    push_run(folder, cfg.hf_hub_id, token="hf_dummy")
    snapshot = pull(f"hf-hub:{cfg.hf_hub_id}")  # the repository of a table entry: verified by the table
    for file in cfg.files:
        assert (snapshot / file).read_bytes() == (folder / file).read_bytes()
    assert pull(name) == snapshot  # the tag's Hub path, as `zoo.models.hub.pull` gives it
    card = ModelCard.load(snapshot / "README.md")
    psnr = {r.dataset_name: r.metric_value for r in card.data.eval_results if r.metric_type == "psnr"}
    assert len(psnr) == 8 and all(value > 20 for value in psnr.values())


def test_cli_derain_and_pull_a_packaged_tag_with_the_network_blocked(tmp_path: Path, monkeypatch, capsys) -> None:
    import numpy as np
    from PIL import Image

    go_offline(monkeypatch)
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (48, 56, 3), dtype=np.uint8)).save(tmp_path / "photo.png")
    code, out, err = run_cli(
        ["derain", "brn.coic_synthmix", str(tmp_path / "photo.png"), "--out", str(tmp_path / "out")], monkeypatch, capsys
    )
    assert code == 0, err
    assert np.asarray(Image.open(tmp_path / "out" / "photo.png")).shape == (48, 56, 3)
    code, out, err = run_cli(["pull", "brn.baseline_synthmix"], monkeypatch, capsys)
    assert code == 0 and "packaged with coic-zoo: no download needed" in out, err
    assert pretrained_cfg("brn.baseline_synthmix").files["model.safetensors"] in out
    code, _, err = run_cli(["pull", "brn.official_coic"], monkeypatch, capsys)  # official: needs its file
    assert code == 2 and "HF_HUB_OFFLINE is set" in err
