"""Official CoIC checkpoints as pretrained tags: fetched from the official repository, converted on first use.

The CoIC authors publish `checkpoints/{Baseline,CoIC}/*.pth` in GitHub Schizophreni/CoIC. A table
entry with `official_files` (`brn.official_coic`, `rcdnet.official_baseline`, ...) names those files
at the pinned commit; the first `create_model` downloads each one (only when online), checks it
against its git blob id (and its sha256 where the table records one), converts it with
`zoo.models.convert.convert_official` and keeps the model folder in the normal cache:

    <HF hub cache>/coic-zoo-official/<commit>/checkpoints/CoIC/rcdnet_model.pth   the official file
    <HF hub cache>/coic-zoo-official/<commit>/converted/rcdnet.official_coic/      the model folder

Later calls load the folder without touching the network. Offline (`HF_HUB_OFFLINE=1`, or the
download fails) a missing file raises a one-line `ZooError` naming the file, its URL and where to put
it; `zoo convert` on a local copy is the alternative. `ZOO_OFFICIAL_BASE_URL` replaces the GitHub
raw URL prefix (a mirror, or `file://` in tests). Each download waits at most `ZOO_NETWORK_TIMEOUT`
seconds for the server and is retried `ZOO_NETWORK_RETRIES` times (`zoo.models.network`).
"""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from .._atomic import atomic_path
from ..errors import CheckpointError, ZooError
from .files import git_blob_sha1, sha256_file
from .hub import hub_cache, hub_offline
from .network import attempts_text, is_timeout, network_timeout, with_retries
from .pretrained import OFFICIAL_COMMIT, OfficialFile, PretrainedCfg

BASE_URL_ENV = "ZOO_OFFICIAL_BASE_URL"


def base_url() -> str:
    """The URL prefix of the official repository's files at the pinned commit (ends with '/')."""
    default = f"https://raw.githubusercontent.com/Schizophreni/CoIC/{OFFICIAL_COMMIT}/"
    return os.environ.get(BASE_URL_ENV, default).rstrip("/") + "/"


def official_root() -> Path:
    """Where official files and their conversions live, inside the Hugging Face hub cache."""
    return hub_cache() / "coic-zoo-official" / OFFICIAL_COMMIT


def _verify(path: Path, item: OfficialFile, label: str) -> None:
    blob = git_blob_sha1(path)
    if blob != item.git_blob:
        raise CheckpointError(
            f"{path}: git blob {blob} is not {item.git_blob}, the id of {item.path} at Schizophreni/CoIC@"
            f"{OFFICIAL_COMMIT[:8]} ({label}); delete it and download {base_url()}{item.path} again"
        )
    if item.sha256 is not None and sha256_file(path) != item.sha256:
        raise CheckpointError(
            f"{path}: sha256 differs from {item.sha256} recorded for {item.path}; delete it and download again"
        )


def _missing(cfg: PretrainedCfg, item: OfficialFile, target: Path, reason: str) -> ZooError:
    model = next(f for f in cfg.official_files if f.role == "model")
    encoder = next((f for f in cfg.official_files if f.role == "encoder"), None)
    convert = f"zoo convert {Path(model.path).name} --backbone {cfg.backbone}"
    convert += f" --encoder {Path(encoder.path).name}" if encoder else ""
    convert += " --baseline" if cfg.method == "baseline" else ""
    return ZooError(
        f"'{cfg.name}' needs the official {item.path} and {reason}: download {base_url()}{item.path} "
        f"and put it at {target}, or run `{convert} --out DIR` and load 'local-dir:DIR'"
    )


_TRANSIENT = (urllib.error.URLError, TimeoutError, ConnectionError)


def _download(cfg: PretrainedCfg, item: OfficialFile, target: Path) -> None:
    url = base_url() + item.path

    def fetch() -> None:
        with urllib.request.urlopen(url, timeout=network_timeout()) as response, atomic_path(target) as tmp:
            with open(tmp, "wb") as handle:
                shutil.copyfileobj(response, handle)
            _verify(tmp, item, f"downloaded for {cfg.name}")

    def transient(err: BaseException) -> bool:  # a missing file (404) stays missing: no retry
        return isinstance(err, _TRANSIENT) and not isinstance(err, urllib.error.HTTPError)

    try:
        with_retries(fetch, transient)
    except _TRANSIENT as err:
        reason = getattr(err, "reason", err)
        if is_timeout(err) or isinstance(reason, TimeoutError):
            reason = f"{url} did not answer within {attempts_text()}"
        raise _missing(cfg, item, target, f"the download failed ({reason})") from None


def _source(cfg: PretrainedCfg, item: OfficialFile) -> Path:
    """The official file, verified: from the cache, or downloaded into it when online."""
    target = official_root() / item.path
    if not target.is_file():
        if hub_offline():
            raise _missing(cfg, item, target, "HF_HUB_OFFLINE is set")
        _download(cfg, item, target)
    _verify(target, item, f"for {cfg.name}")
    return target


def _complete(folder: Path, cfg: PretrainedCfg) -> bool:
    return all((folder / f).is_file() for f in cfg.files)


def is_converted(cfg: PretrainedCfg) -> bool:
    """Whether the official tag's converted folder is already in the cache (it then loads offline)."""
    return _complete(official_root() / "converted" / cfg.name, cfg)


def fetch_official(cfg: PretrainedCfg) -> Path:
    """The converted model folder of an official-checkpoint tag, converting (and downloading) on first use."""
    from .convert import convert_official

    if not cfg.official_files:
        raise ZooError(f"'{cfg.name}' is not an official-checkpoint tag; use zoo.models.hub.pull")
    folder = official_root() / "converted" / cfg.name
    if not _complete(folder, cfg):
        paths = {item.role: _source(cfg, item) for item in cfg.official_files}
        staging = folder.with_name(f".{folder.name}.partial")
        shutil.rmtree(staging, ignore_errors=True)
        convert_official(
            paths["model"],
            cfg.backbone,
            staging,
            encoder=paths.get("encoder"),
            model_args=dict(cfg.model_args) or None,
            baseline=cfg.method == "baseline",
        )
        shutil.rmtree(folder, ignore_errors=True)
        staging.replace(folder)
    for file, expected in cfg.files.items():
        if expected is not None and sha256_file(folder / file) != expected:
            raise CheckpointError(
                f"{folder / file}: sha256 differs from {expected} recorded for {cfg.name}; delete {folder} to convert again"
            )
    return folder
