"""Pull a model repository from the Hub into the normal cache, verified.

After a pull every model file's sha256 is checked against the pretrained table (where it records one) and
against the id the Hub reported for the file (the name of its cache blob: the sha256 of an LFS file,
the git blob sha1 of a file kept in git such as config.json); a mismatch refuses the file. Every
request is bounded by `ZOO_NETWORK_TIMEOUT` and retried `ZOO_NETWORK_RETRIES` times
(`zoo.models.network`); a Hub that never answers ends in one line naming its URL and what to do offline.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ...errors import CheckpointError, ZooError
from ...version import __version__
from ..checkpoint import read_config
from ..files import CONFIG_FILE, ENCODER_FILE, MODEL_FILE, MODEL_FILES, README_FILE, git_blob_sha1, sha256_file
from ..network import attempts_text, bound_hub_requests, is_timeout, with_retries
from ..pretrained import HF_HUB_PREFIX, PretrainedCfg, find_by_repo, pretrained_cfg
from .card import LIBRARY_NAME
from .settings import check_repo_id, hub_cache, hub_endpoint, hub_offline, is_network_error

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_GIT_SHA1 = re.compile(r"^[0-9a-f]{40}$")


def parse_model_id(model_id: str, revision: str | None = None) -> tuple[str, str | None, PretrainedCfg | None]:
    """(repo id, revision, table entry whose hashes apply) for a tag, `ORG/REPO` or `hf-hub:ORG/REPO[@REV]`."""
    if model_id.startswith(HF_HUB_PREFIX) or "/" in model_id:
        repo, _, inline = model_id.removeprefix(HF_HUB_PREFIX).partition("@")
        repo = check_repo_id(repo)
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
        if is_network_error(err):
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
