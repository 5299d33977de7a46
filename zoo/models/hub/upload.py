"""Push a run to the Hub as a model repository, in one commit.

A repository holds a model folder (`config.json`, `model.safetensors`, `encoder.safetensors` for
CoIC) and a `README.md` model card (`card.py`) whose `model-index` carries the run's measured
PSNR/SSIM. Every request is bounded by `ZOO_NETWORK_TIMEOUT` and retried `ZOO_NETWORK_RETRIES` times
(`zoo.models.network`); a Hub that never answers ends in one line naming its URL, and the folder is
unchanged.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import CheckpointError, ZooError
from ...version import __version__
from ..checkpoint import read_config
from ..files import ENCODER_FILE, MODEL_FILE, MODEL_FILES, README_FILE
from ..network import attempts_text, bound_hub_requests, is_timeout, with_retries
from .card import LIBRARY_NAME, build_model_card
from .settings import check_repo_id, hub_endpoint, hub_offline, is_network_error


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
    repo_id = check_repo_id(repo_id)
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
        return with_retries(upload, is_network_error)
    except HfHubHTTPError as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ZooError(f"pushing {run_dir} to '{repo_id}' at {url} failed: {first}") from None
    except Exception as err:
        if is_network_error(err):
            what = "did not answer" if is_timeout(err) else "could not be reached"
            raise ZooError(
                f"pushing {run_dir} to '{repo_id}': the Hub at {url} {what} ({type(err).__name__}, {attempts_text()}); "
                "the folder is unchanged: push again once the Hub is reachable (a push uploads every file in one commit)"
            ) from None
        raise
