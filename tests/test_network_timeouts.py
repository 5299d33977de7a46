"""Every network call gives up in bounded time (issue 25): a server that accepts connections and never
answers ends `zoo pull`, `zoo push` and an official-checkpoint download with one line naming the URL.

The "server" is a loopback socket that listens and never accepts: the kernel completes each TCP
handshake, so requests connect and then wait for an answer that never comes. ZOO_NETWORK_TIMEOUT is
0.2 s and ZOO_NETWORK_RETRIES 1, so each test ends within a few seconds (each also asserts it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import zoo
from tests.cli_runner import run_cli
from tests.hub_server import silent_endpoint
from zoo.errors import ZooError
from zoo.models.network import network_retries, network_timeout

BUDGET_S = 8.0  # generous: two attempts of 0.2 s, a pause, and the command around them


@pytest.fixture
def silent_server() -> Iterator[str]:
    with silent_endpoint() as url:
        yield url


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_TOKEN", "hf_dummy")
    monkeypatch.setenv("ZOO_NETWORK_TIMEOUT", "0.2")
    monkeypatch.setenv("ZOO_NETWORK_RETRIES", "1")


def test_settings_are_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert network_timeout() == 0.2 and network_retries() == 1
    monkeypatch.setenv("ZOO_NETWORK_TIMEOUT", "soon")
    with pytest.raises(ZooError, match="ZOO_NETWORK_TIMEOUT='soon' must be a number of seconds greater than 0"):
        network_timeout()
    monkeypatch.setenv("ZOO_NETWORK_RETRIES", "-1")
    with pytest.raises(ZooError, match="ZOO_NETWORK_RETRIES='-1' must be a whole number from 0 to 10"):
        network_retries()


def test_pull_from_a_silent_hub_ends_in_one_line(silent_server: str, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HF_ENDPOINT", silent_server)
    start = time.monotonic()
    code, out, err = run_cli(["pull", "org/brn-test"], monkeypatch, capsys)
    assert time.monotonic() - start < BUDGET_S
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    line = " ".join(err.split())
    assert f"the Hub at {silent_server} did not answer (2 attempts of 0.2 s each (ZOO_NETWORK_TIMEOUT, ZOO_NETWORK_RETRIES))" in line
    assert "hf download org/brn-test" in line and "local-dir:FOLDER" in line  # what to do without the network
    start = time.monotonic()
    with pytest.raises(ZooError, match="did not answer"):
        zoo.create_model("hf-hub:org/brn-test")
    assert time.monotonic() - start < BUDGET_S


def test_push_to_a_silent_hub_ends_in_one_line(silent_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from zoo.models.checkpoint import save_model_dir

    save_model_dir(zoo.create_model("brn"), tmp_path / "model")
    monkeypatch.setenv("HF_ENDPOINT", silent_server)
    start = time.monotonic()
    code, out, err = run_cli(["push", str(tmp_path / "model"), "--repo", "org/brn-test"], monkeypatch, capsys)
    assert time.monotonic() - start < BUDGET_S
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    line = " ".join(err.split())
    assert f"the Hub at {silent_server} did not answer" in line and "2 attempts of 0.2 s each" in line
    assert "push again once the Hub is reachable" in line and "the folder is unchanged" in line


def test_official_download_from_a_silent_server_ends_in_one_line(silent_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_OFFICIAL_BASE_URL", silent_server + "/")
    start = time.monotonic()
    with pytest.raises(ZooError) as info:
        zoo.create_model("rcdnet.official_baseline")
    assert time.monotonic() - start < BUDGET_S
    message = str(info.value)
    url = f"{silent_server}/checkpoints/Baseline/rcdnet_model.pth"
    assert "\n" not in message and f"({url} did not answer within 2 attempts of 0.2 s each" in message
    assert f"download {url} and put it at" in message and "load 'local-dir:DIR'" in message
