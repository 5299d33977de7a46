"""`zoo score`: score any method's saved outputs against ground truth under one or every metric protocol."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import ZooError
from .progress import make_progress

console = Console()
err_console = Console(stderr=True)
PROGRESS_FROM = 8  # images; fewer score in a blink


def _protocols(names: list[str]) -> list[str]:
    """The --protocol values, checked; `all` means every known protocol, default first."""
    from ..evaluation.protocols import DEFAULT_PROTOCOL, get_protocol, list_protocols

    if not names:
        return [DEFAULT_PROTOCOL]
    if "all" in names:
        return list_protocols()
    chosen: list[str] = []
    for name in names:
        if get_protocol(name).name not in chosen:
            chosen.append(name)
    return chosen


def _check_options(pred: Path, gt: Path | None, data: str | None, root: Path | None, store: Path | None,
                   method: str | None, per_image: Path | None) -> None:
    """Every option mistake as one line, before any image is read."""
    if (gt is None) == (data is None):
        given = "both were given" if gt is not None else "neither was given"
        raise ZooError(f"pass the ground truth either as --gt FOLDER or as --data NAME --root DIR ({given})")
    if data is not None and root is None:
        raise ZooError(f"--data {data} needs --root DIR, the folder holding the dataset (or the dataset folder itself)")
    if gt is not None and root is not None:
        raise ZooError("--root goes with --data; with --gt FOLDER the folder itself is the ground truth")
    if (store is None) != (method is None):
        raise ZooError("--store DIR and --method NAME go together: the rows need a method name and a store to go to")
    for path, flag in ((per_image, "--per-image"), (store, "--store")):
        if path is not None and path.resolve() == pred.resolve():
            raise ZooError(f"{flag} {path} is the PRED folder; choose another path")
    if per_image is not None and per_image.is_dir():
        raise ZooError(f"--per-image {per_image} is a folder; pass a CSV file path")
    if store is not None and store.exists() and not store.is_dir():
        raise ZooError(f"--store {store} is a file; pass the results store's folder")


def score(
    pred: Path = typer.Argument(..., metavar="PRED", help="Folder of restored images, from any method."),
    gt: Path | None = typer.Option(None, "--gt", help="Folder of ground-truth images, paired with PRED by name."),
    data: str | None = typer.Option(
        None, "--data", help="Take the ground truth from a dataset's test split: rain200l, rain200h, rain800, did, ddn, spa or paired."
    ),
    root: Path | None = typer.Option(None, "--root", help="With --data: the dataset folder, or the folder holding it."),
    allow_partial: bool = typer.Option(False, "--allow-partial", help="With --data: accept a test split with fewer pairs than expected."),
    protocol: list[str] = typer.Option(
        [], "--protocol", help="Metric protocol (repeatable), or all; default y-matlab. See the README's protocol table."
    ),
    per_image: Path | None = typer.Option(None, "--per-image", help="Also write per-image scores to this CSV file."),
    store: Path | None = typer.Option(None, "--store", help="Append the mean scores to this results store (with --method)."),
    method: str | None = typer.Option(None, "--method", help="Name of the method whose outputs these are (the rows' run and backbone)."),
    dataset: str | None = typer.Option(None, "--dataset", help="Test-set name of the rows (default: the --data name, else the GT folder's name)."),
    train_data: str = typer.Option("-", "--train-data", help="What the method was trained on, for the rows (default: - , unknown)."),
    crop_to_gt: bool = typer.Option(
        False, "--crop-to-gt", help="Crop predictions larger than their ground truth to its size (top-left kept); recorded on the rows."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Score a folder of restored images against ground truth: mean PSNR/SSIM per protocol, 95% CI over images.

    Files pair by name (same stem, any extension; common prefixes such as rain-/norain-/gt- and suffixes
    such as _x1/_out/_derained are ignored; the full rule is printed). Anything unpaired, or a size
    mismatch, stops the command before anything is written: predictions are never resized (--crop-to-gt
    keeps the top-left of larger ones). 16-bit PNGs are read as value / 65535, alpha channels are
    dropped; both are printed as notes and recorded on the store rows.
    """
    from ..evaluation.output_pairs import PAIRING_RULE, pair_dataset, pair_folders
    from ..evaluation.score_folders import dataset_name, score_outputs

    _check_options(pred, gt, data, root, store, method, per_image)
    protocols = _protocols(protocol)
    console.print(escape(f"pairing: {PAIRING_RULE}"), style="dim", highlight=False, soft_wrap=True)
    if gt is not None:
        pairs = pair_folders(pred, gt)
        test_set = dataset or dataset_name(gt.resolve().name)
    else:
        import warnings

        with warnings.catch_warnings(record=True) as caught:  # --allow-partial's "using the subset": one note line
            warnings.simplefilter("always")
            pairs = pair_dataset(pred, data, root, allow_partial=allow_partial)  # type: ignore[arg-type]
        for warning in caught:
            console.print(escape(f"note: {warning.message}"), style="yellow", highlight=False, soft_wrap=True)
        test_set = dataset or data
    with make_progress(progress and len(pairs) >= PROGRESS_FROM, err_console, transient=True) as bar:
        scores = score_outputs(pairs, protocols, crop_to_gt=crop_to_gt, progress=bar)
    for note in scores.notes:
        console.print(escape(f"note: {note}"), style="yellow", highlight=False, soft_wrap=True)
    where = f"ground truth {gt}" if gt is not None else f"{data} test split in {root}"
    console.print(escape(f"scored {len(pairs)} pairs: {pred} against the {where} (test set '{test_set}')"), highlight=False, soft_wrap=True)
    (console if console.is_terminal else Console(width=max(console.width, 160))).print(_table(scores))
    _write(scores, per_image, store, method, test_set, train_data)


def _table(scores):
    """Mean, 95% t-interval and n per protocol; with several protocols, each one's shift from the first."""
    from rich.table import Table

    from ..results.stats import t_interval

    first = scores.protocols[0]
    several = len(scores.protocols) > 1
    table = Table(title="PSNR (dB) and SSIM of the outputs; 95% CI: Student t over images")
    for column in ("protocol", "n", "PSNR", "95% CI", "SSIM", "95% CI"):
        table.add_column(column, justify="left" if column == "protocol" else "right", no_wrap=True)
    if several:
        table.add_column(f"Δ PSNR vs {first}", justify="right", no_wrap=True)
        table.add_column(f"Δ SSIM vs {first}", justify="right", no_wrap=True)
    base = {metric: scores.values(first, metric).mean() for metric in ("psnr", "ssim")}
    for name in scores.protocols:
        cells = [name, str(len(scores.pairs))]
        for metric, digits in (("psnr", 3), ("ssim", 5)):
            values = scores.values(name, metric)
            low, high = t_interval(values)
            cells += [f"{values.mean():.{digits}f}", "n/a" if low != low else f"[{low:.{digits}f}, {high:.{digits}f}]"]
        if several:
            cells += [f"{scores.values(name, m).mean() - base[m]:+.{d}f}" for m, d in (("psnr", 3), ("ssim", 5))]
        table.add_row(*cells)
    return table


def _write(scores, per_image: Path | None, store: Path | None, method: str | None, test_set: str, train_data: str) -> None:
    """The CSV and the store rows, only once everything was scored: a failure above leaves nothing behind."""
    if per_image is not None:
        import pandas as pd

        from .._atomic import atomic_write_text
        from ..evaluation.score_folders import per_image_lines

        atomic_write_text(per_image, pd.DataFrame(per_image_lines(scores)).to_csv(index=False, float_format="%.10g"))
        console.print(escape(f"wrote per-image scores to {per_image}"), highlight=False)
    if store is not None and method is not None:
        from ..evaluation.score_folders import result_rows
        from ..results.store import ResultsStore

        rows, images = result_rows(scores, method, test_set, train_data)
        ResultsStore(store).append(rows, images=images)
        console.print(
            escape(f"recorded {len(rows)} rows (source outputs) in {store}; see them with `zoo leaderboard --store {store}`"),
            highlight=False, soft_wrap=True,
        )


def register(app: typer.Typer) -> None:
    app.command("score")(score)
