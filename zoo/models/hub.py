"""Hugging Face Hub: push a run as a model repository, pull one into the normal cache, verified.

Everything goes through `huggingface_hub` (never hand-written HTTP), so `HF_ENDPOINT`, `HF_HOME`,
`HF_HUB_CACHE`, `HF_HUB_OFFLINE` and the usual tokens apply. They are read when a function is
called, not when `huggingface_hub` was imported, so a script or test may set them at any time.
Every request is bounded by `ZOO_NETWORK_TIMEOUT` and retried `ZOO_NETWORK_RETRIES` times
(`zoo.models.network`); a Hub that never answers ends in one line naming its URL and what to do offline.

A repository holds a model folder (`config.json`, `model.safetensors`, `encoder.safetensors` for
CoIC) and a `README.md` model card whose `model-index` carries the run's measured PSNR/SSIM. After a
pull every model file's sha256 is checked against the pretrained table (where it records one) and
against the id the Hub reported for the file (the name of its cache blob: the sha256 of an LFS file,
the git blob sha1 of a file kept in git such as config.json); a mismatch refuses the file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import CheckpointError, ZooError
from ..version import __version__
from .card import LIBRARY_NAME, build_model_card
from .checkpoint import read_config
from .files import CONFIG_FILE, ENCODER_FILE, MODEL_FILE, MODEL_FILES, README_FILE, git_blob_sha1, sha256_file
from .network import attempts_text, bound_hub_requests, is_timeout, with_retries
from .pretrained import HF_HUB_PREFIX, PretrainedCfg, find_by_repo, pretrained_cfg

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_GIT_SHA1 = re.compile(r"^[0-9a-f]{40}$")

# --- settings, read at call time -------------------------------------------------------------------


def _is_true(value: str | None) -> bool:
    return value is not None and value.strip().upper() in {"1", "ON", "YES", "TRUE"}


def hub_offline() -> bool:
    """`HF_HUB_OFFLINE` as set now (falls back to the value huggingface_hub read at import)."""
    from huggingface_hub import constants

    if "HF_HUB_OFFLINE" in os.environ:
        return _is_true(os.environ["HF_HUB_OFFLINE"])
    return bool(constants.HF_HUB_OFFLINE)


def hub_endpoint(endpoint: str | None = None) -> str:
    """The Hub URL: `endpoint`, else `HF_ENDPOINT`, else huggingface_hub's default."""
    from huggingface_hub import constants

    return (endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def hub_cache() -> Path:
    """The Hugging Face hub cache folder: `HF_HUB_CACHE`, else `HF_HOME/hub`, else the default."""
    from huggingface_hub import constants

    for variable in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(variable):
            return Path(os.path.expandvars(os.environ[variable])).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.path.expandvars(os.environ["HF_HOME"])).expanduser() / "hub"
    return Path(constants.HF_HUB_CACHE)


def _is_network_error(err: BaseException) -> bool:
    module = type(err).__module__ or ""
    return isinstance(err, (ConnectionError, TimeoutError)) or module.startswith(("httpx", "requests", "urllib3"))


# --- push ----------------------------------------------------------------------------------------


def _check_repo_id(repo_id: str) -> str:
    repo_id = repo_id.removeprefix(HF_HUB_PREFIX)
    if not _REPO_ID.match(repo_id) or ".." in repo_id or repo_id.endswith((".git", ".")):
        raise ZooError(f"'{repo_id}' is not a Hub repository id; use ORG/NAME, e.g. coic-zoo/brn.coic_synthmix")
    return repo_id


def push_run(
    run_dir: str | Path,
    repo_id: str,
    private: bool = False,
    token: str | None = None,
    endpoint: str | None = None,
    allow_random_encoder: bool = False,
) -> str:
    """Upload the model folder `run_dir` to Hub repository `repo_id` in one commit; returns the repo URL.

    Uploads `config.json`, `model.safetensors`, `encoder.safetensors` (if present) and a generated
    `README.md` model card (`build_model_card`). The repository is created if needed. A CoIC folder
    without `encoder.safetensors` is refused unless `allow_random_encoder`: whoever loads it would
    get z from an untrained encoder.
    """
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.errors import HfHubHTTPError

    run_dir = Path(run_dir)
    repo_id = _check_repo_id(repo_id)
    config = read_config(run_dir)
    if not (run_dir / MODEL_FILE).is_file():
        raise CheckpointError(f"{run_dir / MODEL_FILE}: missing; nothing to push (is {run_dir} a finished run?)")
    if config.get("coic") and not (run_dir / ENCODER_FILE).is_file() and not allow_random_encoder:
        raise CheckpointError(
            f"{run_dir / ENCODER_FILE}: missing; a CoIC model pushed without it gives z from an untrained encoder "
            "to whoever loads it. Restore the file, or pass --allow-random-encoder to push the folder as it is"
        )
    if hub_offline():
        raise ZooError(f"cannot push {run_dir} to {repo_id}: HF_HUB_OFFLINE is set; unset it to reach the Hub")
    url = hub_endpoint(endpoint)
    card = build_model_card(run_dir, repo_id=repo_id)
    operations = [
        CommitOperationAdd(path_in_repo=file, path_or_fileobj=str(run_dir / file))
        for file in MODEL_FILES
        if (run_dir / file).is_file()
    ]
    operations.append(CommitOperationAdd(path_in_repo=README_FILE, path_or_fileobj=str(card).encode("utf-8")))
    api = HfApi(endpoint=url, token=token, library_name=LIBRARY_NAME, library_version=__version__)
    bound_hub_requests()

    def upload() -> str:
        repo_url = api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        api.create_commit(
            repo_id,
            operations=operations,
            commit_message=f"Upload {run_dir.name} with coic-zoo",
            repo_type="model",
        )
        return str(repo_url)

    try:
        return with_retries(upload, _is_network_error)
    except HfHubHTTPError as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ZooError(f"pushing {run_dir} to '{repo_id}' at {url} failed: {first}") from None
    except Exception as err:
        if _is_network_error(err):
            what = "did not answer" if is_timeout(err) else "could not be reached"
            raise ZooError(
                f"pushing {run_dir} to '{repo_id}': the Hub at {url} {what} ({type(err).__name__}, {attempts_text()}); "
                "the folder is unchanged: push again once the Hub is reachable (a push uploads every file in one commit)"
            ) from None
        raise


# --- pull ----------------------------------------------------------------------------------------


def parse_model_id(model_id: str, revision: str | None = None) -> tuple[str, str | None, PretrainedCfg | None]:
    """(repo id, revision, table entry whose hashes apply) for a tag, `ORG/REPO` or `hf-hub:ORG/REPO[@REV]`."""
    if model_id.startswith(HF_HUB_PREFIX) or "/" in model_id:
        repo, _, inline = model_id.removeprefix(HF_HUB_PREFIX).partition("@")
        repo = _check_repo_id(repo)
        revision = revision or inline or None
        cfg = find_by_repo(repo)
    else:
        cfg = pretrained_cfg(model_id)
        if cfg.hf_hub_id is None:
            raise ZooError(
                f"'{model_id}' has no Hub repository: its weights come from the {cfg.where} files "
                f"({cfg.origin_url or 'the package'}); load it with zoo.create_model('{model_id}')"
            )
        repo = cfg.hf_hub_id
        revision = revision or cfg.revision
    if cfg is not None and revision not in (None, cfg.revision):
        cfg = None  # the table's hashes describe another revision
    return repo, revision, cfg


def _snapshot(
    repo_id: str,
    revision: str | None,
    patterns: list[str],
    *,
    offline: bool,
    force: bool,
    token: str | None,
    endpoint: str,
) -> tuple[Path | None, str | None, bool]:
    """`snapshot_download`: (snapshot folder or None, why the Hub was not used or None, whether the
    cache knows the folder lacks files the repository has)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    def download() -> str:
        return snapshot_download(
            repo_id,
            revision=revision,
            cache_dir=hub_cache(),
            endpoint=endpoint,
            token=token,
            local_files_only=offline,
            force_download=force and not offline,
            allow_patterns=patterns,
            library_name=LIBRARY_NAME,
            library_version=__version__,
        )

    bound_hub_requests()
    try:
        # snapshot_download turns an unreachable Hub into LocalEntryNotFoundError (after looking in the cache).
        folder = with_retries(download, lambda err: not offline and isinstance(err, LocalEntryNotFoundError))
        return Path(folder), ("HF_HUB_OFFLINE is set" if offline else None), False
    except GatedRepoError:
        raise ZooError(
            f"Hub repository '{repo_id}' is gated; accept its terms on the Hub and log in (`hf auth login` or HF_TOKEN)"
        ) from None
    except RepositoryNotFoundError:
        raise ZooError(
            f"Hub repository '{repo_id}' not found at {endpoint}; check the id, "
            "or log in (`hf auth login` or HF_TOKEN) if it is private"
        ) from None
    except RevisionNotFoundError:
        raise ZooError(f"Hub repository '{repo_id}' has no revision '{revision}'") from None
    except LocalEntryNotFoundError as err:
        what = "did not answer" if is_timeout(err) else "could not be reached"
        reason = "HF_HUB_OFFLINE is set" if offline else f"the Hub at {endpoint} {what} ({attempts_text()})"
        partial = getattr(err, "snapshot_path", None)  # IncompleteSnapshotError: the folder exists, files lack
        return (Path(partial) if partial else None), reason, partial is not None
    except HfHubHTTPError as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ZooError(f"downloading '{repo_id}' from {endpoint} failed: {first}") from None


def _hub_has(repo_id: str, file: str, folder: Path | None, *, token: str | None, endpoint: str) -> bool:
    """Whether the Hub lists `file` at the snapshot's commit; True when it cannot be asked (unreachable)."""
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint, token=token, library_name=LIBRARY_NAME, library_version=__version__)
    try:
        return api.file_exists(repo_id, file, revision=folder.name if folder is not None else None)
    except Exception as err:
        if _is_network_error(err):
            return True
        raise


def _missing_message(
    model_id: str, repo_id: str, revision: str | None, missing: list[str], wanted: list[str], reason: str, endpoint: str
) -> str:
    cache = hub_cache()
    org, _, name = repo_id.partition("/")
    rev = revision or "main"
    revision_flag = f" --revision {revision}" if revision else ""
    return (
        f"'{model_id}': {', '.join(missing)} of Hub repository '{repo_id}' (revision {rev}) "
        f"{'is' if len(missing) == 1 else 'are'} not in the Hugging Face cache {cache} and {reason}. "
        f"Fetch {'it' if len(missing) == 1 else 'them'} where the Hub is reachable with "
        f"`hf download {repo_id} {' '.join(wanted)}{revision_flag}` (or `zoo pull {model_id}`) and copy the folder "
        f"{cache / f'models--{org}--{name}'} (refs/{rev} + snapshots/<commit>/{missing[0]}) into the same place here; "
        f"or put {', '.join(wanted)} into one folder and load it as 'local-dir:FOLDER'."
    )


def verify_file(path: str | Path, expected: str | None, *, label: str, origin: str) -> str:
    """sha256 of `path`, refused with a `CheckpointError` unless it equals `expected` (when given)
    and the sha256 the Hub reported for it (the name of its cache blob)."""
    path = Path(path)
    actual = sha256_file(path)
    checks = [(expected, origin)]
    blob = Path(os.path.realpath(path))
    if blob.parent.name == "blobs" and _SHA256.match(blob.name):
        checks.append((blob.name, "the sha256 the Hub reported for it"))
    for want, source in checks:
        if want is not None and want.lower() != actual:
            raise CheckpointError(
                f"{label}: sha256 mismatch, expected {want} ({source}) but the file has {actual}; "
                f"refusing {path} as corrupt or tampered: delete it and download again (`zoo pull ... --force`)"
            )
    if blob.parent.name == "blobs" and _GIT_SHA1.match(blob.name):
        # A file kept in git, not LFS (config.json): the Hub names it by its git blob sha1.
        found = git_blob_sha1(path)
        if found != blob.name:
            raise CheckpointError(
                f"{label}: git blob sha1 mismatch, expected {blob.name} (the id the Hub reported for it) but the file "
                f"has {found}; refusing {path} as corrupt or tampered: delete it and download again (`zoo pull ... --force`)"
            )
    return actual


def pull(
    model_id: str,
    revision: str | None = None,
    *,
    token: str | None = None,
    endpoint: str | None = None,
    force: bool = False,
) -> Path:
    """Download a model folder into the Hugging Face cache and return its snapshot folder, verified.

    `model_id` is a pretrained tag (`brn.coic_synthmix`), `ORG/REPO` or `hf-hub:ORG/REPO[@REV]`.
    Files already cached are not downloaded again; with `HF_HUB_OFFLINE=1` only the cache is used,
    and a missing file raises a `ZooError` naming the repository, the file and where to put it.
    Each model file's sha256 is checked (pretrained table, then the Hub's own sha256).
    """
    repo_id, revision, cfg = parse_model_id(model_id, revision)
    offline = hub_offline()
    url = hub_endpoint(endpoint)
    required = list(cfg.files) if cfg is not None else [CONFIG_FILE, MODEL_FILE]
    patterns = sorted({*required, README_FILE, *(MODEL_FILES if cfg is None else ())})
    folder, reason, incomplete = _snapshot(
        repo_id, revision, patterns, offline=offline, force=force, token=token, endpoint=url
    )

    def present(file: str) -> bool:
        return folder is not None and (folder / file).is_file()

    missing = [f for f in required if not present(f)]
    if reason is None and missing and not _hub_has(repo_id, missing[0], folder, token=token, endpoint=url):
        raise CheckpointError(
            f"Hub repository '{repo_id}' has no {', '.join(missing)}; it is not a coic-zoo model folder "
            f"(push one with `zoo push RUN --repo {repo_id}`)"
        )
    if missing and reason is None:  # served from a partial cache while the Hub could not be reached
        reason = f"the Hub at {url} could not be reached"
    if (
        incomplete
        and cfg is None
        and present(CONFIG_FILE)
        and not present(ENCODER_FILE)
        and folder is not None
        and _config_says_coic(folder)
    ):
        missing.append(ENCODER_FILE)  # the repository has an encoder that is not cached
    if missing:
        wanted = [*required, *(f for f in missing if f not in required)]
        raise ZooError(_missing_message(model_id, repo_id, revision, missing, wanted, reason or "", url))
    assert folder is not None

    snapshot = folder
    for file in MODEL_FILES:
        path = snapshot / file
        if path.is_file():
            expected = cfg.files.get(file) if cfg is not None else None
            verify_file(
                path,
                expected,
                label=f"{repo_id}/{file}",
                origin=f"the pretrained table entry {cfg.name}" if cfg is not None else "",
            )
    return snapshot


def _config_says_coic(folder: Path) -> bool:
    try:
        return bool(read_config(folder).get("coic", False))
    except ZooError:
        return False
