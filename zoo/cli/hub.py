"""CLI commands about published models on the Hugging Face Hub: `zoo push`, `zoo pull`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ..errors import ZooError
from . import options

console = Console()


def push_command(
    run_dir: Path = typer.Argument(
        ..., metavar="RUN", help="Run or model folder (config.json + model.safetensors [+ encoder.safetensors])."
    ),
    repo: str = typer.Option(..., "--repo", "-r", help="Hub repository ORG/NAME, e.g. coic-zoo/brn.coic_synthmix."),
    private: bool = typer.Option(False, "--private", help="Create the repository as private."),
    allow_random_encoder: bool = options.ALLOW_RANDOM_ENCODER,
) -> None:
    """Upload a run to the Hugging Face Hub with a generated model card (HF_ENDPOINT and HF_TOKEN apply;
    ZOO_NETWORK_TIMEOUT and ZOO_NETWORK_RETRIES bound each request)."""
    from ..models.hub import push_run

    url = push_run(run_dir, repo, private=private, allow_random_encoder=allow_random_encoder)
    console.print(f"pushed {run_dir} -> {url}; load it with zoo.create_model('hf-hub:{repo}')", highlight=False)


def pull_command(
    model_id: str | None = typer.Argument(
        None, metavar="REPO", show_default=False, help="Pretrained tag (brn.coic_synthmix), ORG/REPO or hf-hub:ORG/REPO.",
    ),
    repo: str | None = typer.Option(
        None, "--repo", "-r", show_default=False, help="The same as REPO, spelled as `zoo push` takes it; give one of the two.",
    ),
    revision: str | None = typer.Option(
        None, "--revision", help="Branch, tag or commit (default: main or the table's pin)."
    ),
    force: bool = typer.Option(False, "--force", help="Download again even if cached (repairs a corrupt cache)."),
) -> None:
    """Download a model into the Hugging Face cache and check every file's sha256 (each request waits at most
    ZOO_NETWORK_TIMEOUT seconds, default 30, and is retried ZOO_NETWORK_RETRIES times, default 2)."""
    from ..models.files import MODEL_FILES, sha256_file
    from ..models.hub import pull as pull_model
    from ..models.official import fetch_official
    from ..models.packaged import packaged_folder
    from ..models.pretrained import pretrained_cfg

    model_id = _one_repo(model_id, repo)
    entry = None if model_id.startswith("hf-hub:") or "/" in model_id else pretrained_cfg(model_id)
    if entry is not None and entry.where == "packaged":  # ships with coic-zoo: nothing to download
        folder = packaged_folder(entry)
        console.print(f"{model_id} is packaged with coic-zoo: no download needed", highlight=False)
    elif entry is not None and entry.where == "official":  # converted from the official repository's file
        folder = fetch_official(entry)
    else:
        folder = pull_model(model_id, revision=revision, force=force)
    table = Table(title=f"{model_id} (sha256 verified)")
    table.add_column("file")
    table.add_column("bytes", justify="right")
    table.add_column("sha256", no_wrap=True)
    for file in MODEL_FILES:
        path = folder / file
        if path.is_file():
            table.add_row(file, f"{path.stat().st_size:,}", sha256_file(path))
    console.print(table)
    where = "in" if entry is not None and entry.where == "packaged" else "cached in"
    console.print(f"{where} {folder}; load it with zoo.create_model('{_load_name(model_id)}')", highlight=False)


def _one_repo(positional: str | None, option: str | None) -> str:
    """The repository `zoo pull` fetches, named as REPO or as --repo/-r REPO (the spelling `zoo push` takes), not both."""
    if positional is not None and option is not None:
        raise ZooError(f"name the repository once, as REPO or as --repo REPO, not both ({positional} and --repo {option})")
    if positional is None and option is None:
        raise ZooError("name the model to download: zoo pull REPO (a pretrained tag, ORG/REPO or hf-hub:ORG/REPO), or --repo REPO")
    return positional if positional is not None else str(option)


def _load_name(model_id: str) -> str:
    if model_id.startswith("hf-hub:") or "/" not in model_id:
        return model_id
    return f"hf-hub:{model_id}"


def register(app: typer.Typer) -> None:
    app.command("push")(push_command)
    app.command("pull")(pull_command)
