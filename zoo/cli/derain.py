"""`zoo derain`: restore photos with a published or local model, one PNG per input."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from .._atomic import ensure_folder
from ..errors import ZooError
from . import options
from .deprecations import deprecated
from .progress import make_progress

if TYPE_CHECKING:
    from torch import nn

    from ..models.onnx_session import OnnxModel

console = Console()
err_console = Console(stderr=True)
ENGINES = ("torch", "onnxruntime")


def _expand(images: list[Path]) -> list[Path]:
    from ..data.images import image_files_in

    files: list[Path] = []
    for path in images:
        if path.is_dir():
            found = image_files_in(path, str(path))
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


def _prefixed(model: str) -> bool:
    """Whether `model` is a Hub repository or a model folder spelled with its prefix (hf-hub:, local-dir:)."""
    from ..models.factory import LOCAL_DIR_PREFIX
    from ..models.pretrained import HF_HUB_PREFIX

    return model.startswith((HF_HUB_PREFIX, LOCAL_DIR_PREFIX))


def _names_model(text: str) -> bool:
    """Whether the first argument is the model rather than a photo: a pretrained tag, a prefixed name, a
    folder holding config.json (a run or model folder), or any file or missing name without an image suffix.

    An image file or a folder of images is the old `zoo derain IMAGES...` with the default model."""
    from ..data.images import is_image_file
    from ..models.files import CONFIG_FILE
    from ..models.pretrained import list_pretrained

    path = Path(text)
    if _prefixed(text) or text in list_pretrained():
        return True
    if path.is_dir():
        return (path / CONFIG_FILE).is_file()
    return not is_image_file(path)


def _model_and_images(
    model: str | None, images: list[Path], model_option: str | None, engine: str
) -> tuple[str | None, list[Path]]:
    """(MODEL, IMAGES) from the command line; the old spellings keep working for one release, each with a note.

    With `--model M` every positional is an image. Without it, a first positional that is a photo or a folder
    of photos means the old default: brn.official_baseline derains every positional.
    """
    from ..models.pretrained import DEFAULT_DERAIN_TAG

    positionals = ([Path(model)] if model is not None else []) + images
    if model_option is not None:
        deprecated("zoo derain IMAGES --model M", "zoo derain M IMAGES")
        return model_option, positionals
    if model is None or _names_model(model):
        return model, images
    if engine == "onnxruntime":
        raise ZooError("--engine onnxruntime needs MODEL, an .onnx file written by `zoo export`: zoo derain FILE.onnx IMAGES... --engine onnxruntime")
    shown = f"{positionals[0]}{' ...' if len(positionals) > 1 else ''}"
    deprecated(f"zoo derain {shown}", f"zoo derain {DEFAULT_DERAIN_TAG} {shown}")
    console.print(f"no model given: using {DEFAULT_DERAIN_TAG}, {_tag_line(DEFAULT_DERAIN_TAG)}", highlight=False)
    return DEFAULT_DERAIN_TAG, positionals


def _check_model_name(model: str) -> None:
    """Refuse, before any image is read or model loaded, a MODEL that names no weights PyTorch can run."""
    path = Path(model)
    if _prefixed(model) or path.is_dir() or (path.is_file() and path.suffix.lower() != ".onnx"):
        return
    if path.is_file():
        raise ZooError(f"{model} is an ONNX graph: run it with --engine onnxruntime")
    from ..models.convert.external import SUFFIXES

    if "/" in model or "\\" in model or path.suffix.lower() in (*SUFFIXES, ".onnx"):
        hub = " (a Hub repository is hf-hub:ORG/REPO)" if "/" in model and not path.suffix else ""
        raise ZooError(f"{model}: no such file or folder{hub}")
    if "." in model:
        return  # a pretrained tag: an unknown one is named by the table's own error
    from ..models.pretrained import list_pretrained

    tags = list_pretrained(f"{model}.*")
    hint = f"published: {', '.join(tags)}" if tags else "`zoo pull` lists none for it yet"
    raise ZooError(
        f"{model} is an untrained architecture; name published weights ({hint}), "
        f"a run or model folder, a checkpoint file, or hf-hub:ORG/REPO"
    )


def _torch_model(model: str, allow_random_encoder: bool) -> nn.Module:
    """MODEL as a PyTorch module: a checkpoint file converted as `zoo convert` converts it, a folder loaded
    as `local-dir:` loads it, anything else by name (`zoo.create_model`)."""
    from ..models.factory import LOCAL_DIR_PREFIX, create_model

    path = Path(model)
    if not _prefixed(model) and path.is_file():
        from ..evaluation.evaluate_file import load_checkpoint

        return load_checkpoint(path)[0]
    name = f"{LOCAL_DIR_PREFIX}{model}" if not _prefixed(model) and path.is_dir() else model
    return create_model(name, allow_random_encoder=allow_random_encoder)


def derain(
    model: str | None = typer.Argument(
        None, metavar="MODEL", show_default=False,
        help="A pretrained tag (brn.official_baseline ships with coic-zoo and works offline; --list shows them all), "
        "a run or model folder, a checkpoint file (.pth, .ckpt, .safetensors; with --engine onnxruntime an .onnx file), "
        "hf-hub:ORG/REPO or local-dir:PATH.",
    ),
    images: list[Path] = typer.Argument(None, metavar="IMAGES", help="Image files or folders of images.", show_default=False),
    model_option: str | None = typer.Option(
        None, "--model", "-m", hidden=True, show_default=False, help="Deprecated: name the model first, `zoo derain MODEL IMAGES...`.",
    ),
    list_tags: bool = typer.Option(False, "--list", help="List the pretrained tags, offline or needing a download; derain nothing."),
    out: Path = typer.Option(Path("derained"), "--out", "-o", help="Folder for the restored PNGs."),
    tile: int | None = typer.Option(
        None, "--tile", min=16, help="Process large images in N x N tiles (saves memory). Default: whole images, the best "
        "output; `zoo evaluate` instead tiles as each backbone's official evaluation does (512, IDT 128, overlap 0), so its "
        "scores compare with the papers'.",
    ),
    overlap: int = typer.Option(32, "--overlap", min=0, help="Overlap of neighbouring tiles, in pixels (blended, so no seams show)."),
    device: str = options.DEVICE,
    allow_random_encoder: bool = options.ALLOW_RANDOM_ENCODER,
    engine: str = typer.Option(
        "torch", "--engine", help="torch, or onnxruntime: MODEL is then an .onnx file from `zoo export`, run on the CPU "
        "(with --tile, a CoIC graph computes z from each tile, not once from the whole image)."
    ),
    score: list[str] = typer.Option(
        [], "--score", help="Print a no-reference score of each output and input: niqe, piqe or entropy (repeatable; needs coic-zoo\\[iqa])."
    ),
) -> None:
    """Derain photos with a pretrained or local model: `zoo derain MODEL IMAGES...` writes one PNG per input."""
    import torch

    from ..data.images import read_photo, write_png
    from ..evaluation.devices import resolve_device
    from ..evaluation.inference import restore
    from ..models.checkpoint import has_random_encoder

    if list_tags:
        _print_tags()
        return
    model, images = _model_and_images(model, list(images or []), model_option, engine)
    if model is None or not images:
        raise ZooError("name the model, then one or more photos or folders of photos: zoo derain MODEL IMAGES... (--list shows the models)")
    files = _expand(images)
    if out.exists() and not out.is_dir():
        raise ZooError(f"--out {out} is a file; pass a folder for the restored PNGs")
    targets = _outputs(files, out)
    onnx_net, tile = _onnx_engine(engine, model, tile)
    if onnx_net is None:
        _check_model_name(model)
    if tile is not None and not 0 <= overlap < tile:
        raise ZooError(f"--overlap {overlap} must be at least 0 and smaller than --tile {tile}")
    scoring = _scoring(score)  # before the model loads: a missing extra fails at once
    dev = resolve_device(device)  # before any download: a wrong --device fails at once
    net = onnx_net if onnx_net is not None else _torch_model(model, allow_random_encoder).eval().to(dev)
    if onnx_net is None and has_random_encoder(net):
        console.print(f"note: {model} has no trained encoder; these outputs use a random one and will not repeat", highlight=False)
    ensure_folder(out)

    failures: list[str] = []
    written = 0
    with make_progress(len(files) >= 2, err_console, transient=True) as progress:
        task = progress.add_task("deraining", total=len(files))
        for source, target in zip(files, targets):
            progress.update(task, description=f"deraining {source.name}")
            try:
                image = read_photo(source)  # stays on the CPU: `restore` sends the model what it needs
                with torch.inference_mode():
                    restored = restore(net, image, tile=tile, overlap=overlap)
            except ZooError as err:  # an unreadable or too small image: report it, go on with the others
                line = str(err) if str(source) in str(err) else f"{source}: {err}"
                failures.append(line)
                if len(files) > 1:
                    err_console.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
            else:
                write_png(restored, target)
                written += 1
                if scoring:
                    _print_scores(console, source, image, restored, scoring)
            progress.advance(task)
    console.print(f"restored {written} of {len(files)} image(s) with {model} -> {out}", highlight=False)
    if failures and len(files) == 1:
        raise ZooError(failures[0])
    if failures:
        raise ZooError(f"{len(failures)} of {len(files)} input(s) could not be read or derained; see the lines above")


def _onnx_engine(engine: str, model: str, tile: int | None) -> tuple[OnnxModel | None, int | None]:
    """(the .onnx file as a module `restore` runs, tile) for --engine onnxruntime; (None, tile) for torch.

    A graph exported at a fixed size takes tiles of that size: it becomes the tile, and a larger --tile is refused.
    """
    if engine not in ENGINES:
        raise ZooError(f"--engine {engine}: unknown engine; choose one of: {', '.join(ENGINES)}")
    if engine == "torch":
        return None, tile
    from ..models.onnx_session import OnnxModel

    net = OnnxModel(Path(model))
    fixed = net.fixed_tile
    if fixed is not None and tile is not None and tile > fixed:
        raise ZooError(f"--tile {tile}: {model} was exported for inputs of at most {fixed} pixels a side; use --tile {fixed} or less")
    return net, tile if fixed is None else tile or fixed


def _tag_line(name: str) -> str:
    from ..models.pretrained import pretrained_cfg

    cfg = pretrained_cfg(name)
    return f"{cfg.notes.split(';')[0]} ({cfg.license.upper()} licence)"


def _print_tags() -> None:
    """One row per pretrained tag: what it is and whether it derains with no network now."""
    from rich.table import Table

    from ..models.official import is_converted
    from ..models.pretrained import list_pretrained, pretrained_cfg

    table = Table(title="pretrained models for `zoo derain TAG IMAGES...`")
    table.add_column("tag", no_wrap=True)
    table.add_column("method", no_wrap=True)
    table.add_column("trained on")
    table.add_column("available")
    for name in list_pretrained():
        cfg = pretrained_cfg(name)
        if cfg.where == "packaged":
            available = "offline (packaged)"
        elif cfg.where == "official" and is_converted(cfg):
            available = "offline (in the cache)"
        elif cfg.where == "official":
            available = "download (the official file)"
        else:
            available = f"download (hf-hub:{cfg.hf_hub_id})"
        table.add_row(name, cfg.method, cfg.train_data.replace(",", ", "), available)
    console.print(table)


def _scoring(names: list[str]) -> tuple[str, ...]:
    """The validated --score metrics; pyiqa (the `iqa` extra) is checked here, before any work."""
    if not names:
        return ()
    from ..evaluation.extras import require_pyiqa
    from ..evaluation.noref import check_metrics

    chosen = check_metrics(names)
    require_pyiqa("--score " + ",".join(chosen))
    return chosen


def _print_scores(shown: Console, source: Path, image, restored, names: tuple[str, ...]) -> None:
    """One line of scores per written image; an image too small to score says so and deraining goes on."""
    from ..evaluation.noref import noref_scores
    from .noref import score_line

    try:
        line = score_line(str(source), noref_scores(restored[0], names), noref_scores(image[0], names))
    except ZooError as err:
        shown.print(f"{escape(str(source))}: not scored: {escape(str(err))}", highlight=False, soft_wrap=True)
        return
    shown.print(escape(line), highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("derain")(derain)
