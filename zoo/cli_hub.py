"""CLI commands about published models: `zoo push`, `zoo pull`, `zoo derain`."""

from __future__ import annotations

import struct
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from .errors import ZooError

console = Console()
err_console = Console(stderr=True)


def push(
    run_dir: Path = typer.Argument(
        ..., help="Run or model folder (config.json + model.safetensors [+ encoder.safetensors])."
    ),
    repo: str = typer.Option(..., "--repo", "-r", help="Hub repository ORG/NAME, e.g. coic-zoo/brn.coic_synthmix."),
    private: bool = typer.Option(False, "--private", help="Create the repository as private."),
) -> None:
    """Upload a run to the Hugging Face Hub with a generated model card (HF_ENDPOINT and HF_TOKEN apply)."""
    from .hub import push_run

    url = push_run(run_dir, repo, private=private)
    console.print(f"pushed {run_dir} -> {url}; load it with zoo.create_model('hf-hub:{repo}')", highlight=False)


def pull(
    model_id: str = typer.Argument(..., help="Pretrained tag (brn.coic_synthmix), ORG/REPO or hf-hub:ORG/REPO."),
    revision: str | None = typer.Option(
        None, "--revision", help="Branch, tag or commit (default: main or the table's pin)."
    ),
    force: bool = typer.Option(False, "--force", help="Download again even if cached (repairs a corrupt cache)."),
) -> None:
    """Download a model into the Hugging Face cache and check every file's sha256."""
    from .hub import MODEL_FILES, sha256_file
    from .hub import pull as pull_model

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
    console.print(f"cached in {folder}; load it with zoo.create_model('{_load_name(model_id)}')", highlight=False)


def _load_name(model_id: str) -> str:
    if model_id.startswith("hf-hub:") or "/" not in model_id:
        return model_id
    return f"hf-hub:{model_id}"


def _expand(images: list[Path]) -> list[Path]:
    from .data.images import is_image_file

    files: list[Path] = []
    for path in images:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and is_image_file(p))
            if not found:
                raise ZooError(f"{path}: folder holds no images (.png, .jpg, .jpeg, .bmp, .tif, .tiff, .webp)")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise ZooError(f"{path}: no such file or folder")
    return files


def _outputs(files: list[Path], out: Path) -> list[Path]:
    """One PNG per input under `out`, `<stem>.png`, numbered on name clashes, never an input file."""
    inputs = {f.resolve() for f in files}
    taken: set[Path] = set()
    targets: list[Path] = []
    for file in files:
        target = out / f"{file.stem}.png"
        number = 2
        while target in taken:
            target = out / f"{file.stem}-{number}.png"
            number += 1
        if target.resolve() in inputs:
            raise ZooError(f"{target}: is an input image and would be overwritten; choose another --out folder")
        taken.add(target)
        targets.append(target)
    return targets


def read_image(path: Path):  # -> torch.Tensor
    """A photo as a 1 x 3 x H x W float tensor in [0, 1]; EXIF rotation applied, alpha dropped."""
    import numpy as np
    import torch
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            if image.mode.startswith("I"):  # 16/32-bit grayscale: scale instead of clipping at 255
                gray = np.asarray(image, dtype=np.float32) / 65535.0
                pixels = np.repeat(gray.clip(0.0, 1.0)[..., None], 3, axis=2)
            else:
                pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    except (
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        struct.error,
        UnidentifiedImageError,
        Image.DecompressionBombError,
    ) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ZooError(f"{path}: not a readable image ({reason})") from None
    return torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1).unsqueeze(0)


def write_png(image, path: Path) -> None:  # image: torch.Tensor, 1 x 3 x H x W or 3 x H x W in [0, 1]
    """Save a restored image as 8-bit RGB PNG, atomically."""
    from PIL import Image

    from ._atomic import atomic_write

    if image.dim() == 4:
        image = image[0]
    pixels = image.detach().float().clamp(0, 1).mul(255).round().to("cpu").byte().permute(1, 2, 0).numpy()
    atomic_write(path, lambda tmp: Image.fromarray(pixels, "RGB").save(tmp, format="PNG"))


def _check_model_name(model: str) -> None:
    if model.startswith(("hf-hub:", "local-dir:")) or "." in model:
        return
    from .pretrained import list_pretrained

    tags = list_pretrained(f"{model}.*")
    hint = f"published: {', '.join(tags)}" if tags else "`zoo pull` lists none for it yet"
    raise ZooError(
        f"--model {model} is an untrained architecture; name published weights ({hint}), "
        f"hf-hub:ORG/REPO, or a model folder as local-dir:PATH"
    )


def derain(
    images: list[Path] = typer.Argument(..., help="Image files or folders of images."),
    model: str = typer.Option(..., "--model", "-m", help="brn.coic_synthmix, hf-hub:ORG/REPO or local-dir:PATH."),
    out: Path = typer.Option(Path("derained"), "--out", "-o", help="Folder for the restored PNGs."),
    tile: int | None = typer.Option(None, "--tile", min=16, help="Process large images in N x N tiles (saves memory)."),
    overlap: int = typer.Option(32, "--overlap", min=0, help="Overlap of neighbouring tiles, in pixels."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda[:i]."),
) -> None:
    """Derain photos with a pretrained or local model; writes one PNG per input."""
    import torch
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from .factory import create_model

    files = _expand(images)
    targets = _outputs(files, out)
    _check_model_name(model)
    if tile is not None and not 0 <= overlap < tile:
        raise ZooError(f"--overlap {overlap} must be at least 0 and smaller than --tile {tile}")
    try:
        from .evaluate import restore
    except ModuleNotFoundError as err:
        if err.name != "zoo.evaluate":
            raise
        raise ZooError("zoo derain needs zoo.evaluate, which this installation lacks; reinstall coic-zoo") from None
    dev = torch.device(
        "cuda" if device == "auto" and torch.cuda.is_available() else ("cpu" if device == "auto" else device)
    )
    net = create_model(model).eval().to(dev)

    failures: list[str] = []
    written = 0
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=len(files) < 2,
    ) as progress:
        task = progress.add_task("deraining", total=len(files))
        for source, target in zip(files, targets):
            progress.update(task, description=f"deraining {source.name}")
            try:
                image = read_image(source).to(dev)
            except ZooError as err:
                failures.append(str(err))
                err_console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
            else:
                with torch.inference_mode():
                    restored = restore(net, image, tile=tile, overlap=overlap)
                write_png(restored, target)
                written += 1
            progress.advance(task)
    console.print(f"restored {written} of {len(files)} image(s) with {model} -> {out}", highlight=False)
    if failures:
        raise ZooError(f"{len(failures)} of {len(files)} input(s) could not be read; see the lines above")


def register(app: typer.Typer) -> None:
    app.command("push")(push)
    app.command("pull")(pull)
    app.command("derain")(derain)
