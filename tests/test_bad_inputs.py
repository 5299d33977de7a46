"""A corpus of bad inputs across the whole CLI, one table row each (listed in `tests/bad_inputs.md`).

Every row runs one `zoo` command in-process against a shared folder of fixtures (a tiny run, model
folders, photos, datasets, a results store, matrices) and checks what a new user would see:

- a refused input exits non-zero (2 for bad input and usage errors; `zoo data check` reports data
  problems with 1; a full disk is 1) with the expected message on one line, and no traceback;
- an accepted input (grayscale, RGBA, palette, 16-bit, EXIF-rotated photos) is derained correctly;
- a batch command with one bad file among good ones (`zoo derain`, `zoo data stats`) still processes
  the good ones and names the bad one;
- every file that existed before the command has the same bytes after it, and a refused command
  writes nothing new.

Rows that need a folder the process may not read or write run with the effective uid of `nobody`
when the tests run as root (root ignores permission bits). `python -m tests.test_bad_inputs`
prints the markdown table; `test_corpus_table_is_current` keeps `tests/bad_inputs.md` equal to it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.cli_runner import run_cli
from tests.fixtures_datasets import build_rain200, build_rain800, save, save_png16, truncate

TABLE = Path(__file__).with_name("bad_inputs.md")
NOBODY = 65534


@dataclass(frozen=True)
class Row:
    """One bad input: what it is, the command (`{W}` is the fixture folder), the expected outcome."""

    id: str
    input: str
    args: str
    message: str  # a substring of the printed error (accepted rows: of stdout)
    verdict: str = "refused"  # refused | accepted | reported (a batch: good ones processed, the bad one named)
    code: int = 2
    writes: str | None = None  # a folder (under {W}) the command may add files to
    nobody: bool = False  # run without root's permission bypass
    check: Callable[[Path], None] | None = field(default=None, compare=False)
    changed: str = ""  # the code change this row needed ("" = refused clearly before this corpus)
    env: dict[str, str] = field(default_factory=dict)  # set for the command; {SILENT} is a server that never answers
    full_disk: bool = False  # every atomic write fails part-way with ENOSPC (tests/full_disk.py)


def _png_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:
        assert image.mode == "RGB", f"{path}: {image.mode}"
        return image.size


def _outputs(folder: str, *names: str, size: tuple[int, int] = (24, 20)) -> Callable[[Path], None]:
    def check(world: Path) -> None:
        out = world / folder
        assert sorted(p.name for p in out.iterdir()) == sorted(names)
        for name in names:
            assert _png_size(out / name) == size
    return check


def _no_store(world: Path) -> None:
    assert not (world / "stats-store").exists(), "a partly read dataset must not reach the store"


ROWS: list[Row] = [
    # --- photos (`zoo derain`) --------------------------------------------------------------------
    Row("truncated-png", "truncated PNG", "derain local-dir:{W}/model {W}/photos/truncated.png -o {W}/o",
        "truncated.png: not a readable image (image file is truncated); check the file",
        changed="two error lines for one input, no advice"),
    Row("zero-byte-png", "zero-byte PNG", "derain local-dir:{W}/model {W}/photos/empty.png -o {W}/o",
        "empty.png: not a readable image (cannot identify image file"),
    Row("text-as-jpg", "text file named .jpg", "derain local-dir:{W}/model {W}/photos/notes.jpg -o {W}/o",
        "notes.jpg: not a readable image (cannot identify image file"),
    Row("grayscale-photo", "grayscale photo", "derain local-dir:{W}/model {W}/photos/gray.png -o {W}/o-gray",
        "restored 1 of 1 image(s)", "accepted", 0, "o-gray", check=_outputs("o-gray", "gray.png")),
    Row("rgba-photo", "RGBA photo (alpha dropped)", "derain local-dir:{W}/model {W}/photos/rgba.png -o {W}/o-rgba",
        "restored 1 of 1 image(s)", "accepted", 0, "o-rgba", check=_outputs("o-rgba", "rgba.png")),
    Row("palette-photo", "palette (P mode) photo", "derain local-dir:{W}/model {W}/photos/palette.png -o {W}/o-pal",
        "restored 1 of 1 image(s)", "accepted", 0, "o-pal", check=_outputs("o-pal", "palette.png")),
    Row("gray16-photo", "16-bit grayscale photo", "derain local-dir:{W}/model {W}/photos/gray16.png -o {W}/o-g16",
        "restored 1 of 1 image(s)", "accepted", 0, "o-g16", check=_outputs("o-g16", "gray16.png")),
    Row("rgb48-photo", "48-bit RGB photo", "derain local-dir:{W}/model {W}/photos/rgb48.png -o {W}/o-48",
        "restored 1 of 1 image(s)", "accepted", 0, "o-48", check=_outputs("o-48", "rgb48.png")),
    Row("exif-rotated", "EXIF-rotated JPEG (orientation 6)", "derain local-dir:{W}/model {W}/photos/rotated.jpg -o {W}/o-exif",
        "restored 1 of 1 image(s)", "accepted", 0, "o-exif", check=_outputs("o-exif", "rotated.png", size=(20, 24))),
    Row("below-backbone-minimum", "4x4 photo for DGUNet (minimum 9x9), beside a good one",
        "derain local-dir:{W}/dgunet {W}/photos/tiny.png {W}/photos/good.png -o {W}/o-min",
        "tiny.png: dgunet needs images of at least 9x9 pixels", "reported", 2, "o-min",
        check=_outputs("o-min", "good.png"), changed="derain went on only after unreadable files; a too-small image stopped the batch"),
    Row("one-bad-among-good", "truncated PNG among good photos",
        "derain local-dir:{W}/model {W}/photos/good.png {W}/photos/truncated.png {W}/photos/gray.png -o {W}/o-batch",
        "1 of 3 input(s) could not be read or derained", "reported", 2, "o-batch",
        check=_outputs("o-batch", "good.png", "gray.png")),
    Row("empty-folder", "empty folder", "derain local-dir:{W}/model {W}/empty -o {W}/o", "empty: folder holds no images"),
    Row("missing-photo", "missing file", "derain local-dir:{W}/model {W}/photos/nope.png -o {W}/o",
        "nope.png: no such file or folder"),
    Row("unreadable-folder", "folder without read permission", "derain local-dir:{W}/model {W}/unreadable -o {W}/o",
        "unreadable: cannot list the folder (Permission denied)", nobody=True, changed="PermissionError traceback"),
    Row("out-is-a-file", "--out names a file", "derain local-dir:{W}/model {W}/photos/good.png -o {W}/a-file",
        "--out {W}/a-file is a file; pass a folder", changed="FileExistsError traceback"),
    Row("read-only-out", "read-only output folder", "derain local-dir:{W}/model {W}/photos/good.png -o {W}/read-only/out",
        "read-only/out: cannot write here (Permission denied)", nobody=True, changed="PermissionError traceback"),
    Row("unknown-tag", "unknown pretrained tag", "derain brn.coic_synthmx {W}/photos/good.png -o {W}/o",
        "unknown pretrained tag 'coic_synthmx' for backbone 'brn'"),
    Row("untrained-architecture", "architecture without weights", "derain brn {W}/photos/good.png -o {W}/o",
        "brn is an untrained architecture"),
    Row("truncated-safetensors", "truncated model.safetensors", "derain local-dir:{W}/run-truncated {W}/photos/good.png -o {W}/o",
        "run-truncated/model.safetensors: corrupt safetensors file"),
    Row("unknown-device", "unknown --device", "derain local-dir:{W}/model {W}/photos/good.png -o {W}/o --device gpu0",
        "--device 'gpu0' is not a device", changed="RuntimeError traceback from torch.device"),
    Row("tile-too-small", "--tile below its minimum", "derain local-dir:{W}/model {W}/photos/good.png --tile 8",
        "Invalid value for '--tile'", changed="usage errors printed a multi-line box"),
    # --- datasets (`zoo data`) --------------------------------------------------------------------
    Row("dataset-bad-files", "grayscale rainy file, size-mismatched pair, pair below the SSIM window, unpaired rainy file, among good pairs",
        "data stats {W}/stats --allow-partial --store {W}/stats-store", "4 dataset(s) or pair(s) could not be read",
        "reported", 2, check=_no_store, changed="the first bad pair stopped `zoo data stats`; no --allow-partial"),
    Row("dataset-rgba-16bit", "RGBA and 16-bit files in a dataset", "data check {W}/check --dataset rain200h",
        "is a 16-bit image; the protocol needs 8-bit RGB", "refused", 1),
    Row("missing-dataset-root", "missing folder", "data stats {W}/nowhere", "nowhere is not a folder"),
    Row("empty-dataset-root", "empty folder", "data check {W}/empty", "empty: no known dataset folder found"),
    Row("unreadable-dataset-root", "folder without read permission", "data check {W}/unreadable",
        "unreadable cannot be read (permission denied)", nobody=True, changed="PermissionError traceback"),
    Row("unknown-protocol", "unknown metric protocol", "data stats {W}/stats --protocol ymatlab",
        "unknown metric protocol 'ymatlab'", changed="checked only after reading the first pair"),
    Row("synth-under-a-file", "output path under a file", "data synth {W}/a-file/synth --per-set 1 --size 16",
        "a-file is a file", changed="NotADirectoryError traceback"),
    # --- training (`zoo train`, `zoo evaluate`) ---------------------------------------------------
    Row("unknown-backbone", "unknown backbone", "train brm", "unknown backbone 'brm'; did you mean brn"),
    Row("unknown-dataset", "unknown dataset", "train brn --data rain300x", "unknown dataset 'rain300x' in --data"),
    Row("crop-larger-than-images", "crop larger than the images",
        "train brn --crop 200 --set synth_size=48 --set synth_count=2 --out {W}/new-run --no-progress",
        "--crop 200 is larger than the images of 'synthmix/light' (48x48); use --crop 48 or smaller",
        changed="left a run folder with a TensorBoard file behind"),
    Row("set-without-value", "malformed --set", "train brn --set lr", "--set 'lr' is not key=value"),
    Row("set-mistyped", "mistyped --set value", "train brn --set lr=fast", "--set lr: expected a number (or none), got 'fast'"),
    Row("set-unknown-key", "unknown --set key", "train brn --set itres=3", "--set itres: unknown training setting"),
    Row("set-unknown-model-arg", "unknown backbone argument", "train brn --set model.widht=3 --out {W}/new-run",
        "model settings model.widht=3 do not fit backbone 'brn'", changed="TypeError traceback from the constructor"),
    Row("iters-not-a-number", "non-numeric option", "train brn --iters abc",
        "Invalid value for '--iters'", changed="usage errors printed a multi-line box"),
    Row("resume-other-backbone", "--resume on a run of another backbone", "train idt --resume {W}/run",
        "this command asks for backbone 'idt' (the run: 'brn')", changed="silently resumed the BRN run"),
    Row("resume-other-config", "--resume on a run of another config", "train brn --config paper --resume {W}/run",
        "this command asks for config 'paper' (the run: 'tiny')", changed="silently resumed with the run's config"),
    Row("resume-corrupt-state", "corrupted train_state.pt", "train brn --resume {W}/run-bad-state",
        "run-bad-state/train_state.pt: unreadable ("),
    Row("resume-foreign-state", "train_state.pt copied from another run", "train brn --resume {W}/run-foreign-state --no-progress",
        "train_state.pt: does not fit the run's config.json", changed="RuntimeError traceback from load_state_dict"),
    Row("resume-not-a-run", "--resume on a folder that is not a run", "train brn --resume {W}/photos",
        "photos: not a run directory (no config.json)"),
    Row("train-out-is-a-file", "--out names a file", "train brn --out {W}/a-file --no-progress",
        "a-file is a file; a run needs a folder", changed="FileExistsError traceback after building the model"),
    Row("evaluate-truncated", "truncated model.safetensors", "evaluate {W}/run-truncated",
        "run-truncated/model.safetensors: corrupt safetensors file"),
    Row("evaluate-tampered-header", "safetensors header tampered (a tensor's shape)", "evaluate {W}/run-tampered",
        "run-tampered/model.safetensors: does not fit this model (size mismatch"),
    Row("evaluate-not-a-run", "a folder that is not a run", "evaluate {W}/empty", "empty: not a run directory"),
    # --- matrices and results (`zoo bench`, `zoo leaderboard`) --------------------------------------
    Row("matrix-bad-yaml", "malformed matrix YAML", "bench {W}/matrices/broken.yaml", "broken.yaml: not valid YAML"),
    Row("matrix-not-a-mapping", "matrix YAML that is a list", "bench {W}/matrices/list.yaml", "list.yaml: a matrix is a mapping"),
    Row("matrix-mistyped-setting", "matrix settings {lr: fast}", "bench {W}/matrices/lr-fast.yaml",
        "settings: lr: expected a number (or none), got 'fast'"),
    Row("matrix-unknown-key", "matrix with a misspelt key", "bench {W}/matrices/typo.yaml", "unknown keys ['sedes']"),
    Row("matrix-unknown-model-arg", "matrix settings with an unknown backbone argument", "bench {W}/matrices/model-arg.yaml",
        "model settings model.widht=3 do not fit backbone 'brn'", changed="TypeError traceback in the first cell"),
    Row("matrix-missing", "missing matrix file", "bench {W}/matrices/nope.yaml", "nope.yaml: no such matrix file"),
    Row("bad-shard", "--shard out of range", "bench {W}/matrices/good.yaml --shard 3/2", "--shard '3/2' is not i/n"),
    Row("unknown-metric", "unknown metric", "leaderboard --store {W}/store --metric psnrr", "no metric 'psnrr'; it has: psnr"),
    Row("unknown-format", "unknown format", "leaderboard --store {W}/store --format pdf", "--format 'pdf' is unknown"),
    Row("unknown-protocol-board", "unknown protocol", "leaderboard --store {W}/store --protocol ymatlab",
        "no protocol 'ymatlab'; it has: y-matlab"),
    Row("board-out-is-a-folder", "--out names a folder", "leaderboard --store {W}/store --out {W}/empty",
        "empty is a folder; a file cannot be written there", changed="IsADirectoryError traceback"),
    Row("board-read-only-out", "read-only output folder", "leaderboard --store {W}/store --out {W}/read-only/board.md",
        "read-only: cannot write here (Permission denied)", nobody=True, changed="PermissionError traceback"),
    # --- models --------------------------------------------------------------------------------
    Row("convert-not-a-checkpoint", "an image given as a checkpoint", "convert {W}/photos/good.png -b brn -o {W}/converted",
        "good.png: not a readable PyTorch checkpoint"),
    Row("bad-repo-id", "malformed Hub repository id", "pull org/name/extra", "'org/name/extra' is not a Hub repository id"),
    # --- nothing silently wrong (issue 25) ------------------------------------------------------------
    Row("evaluate-no-encoder", "CoIC run without encoder.safetensors", "evaluate {W}/run-no-encoder",
        "run-no-encoder/encoder.safetensors: missing; without it this CoIC model's z would come from a randomly initialised encoder",
        changed="evaluated with an untrained encoder (a UserWarning) and overwrote metrics.json with those scores"),
    Row("derain-no-encoder", "CoIC model folder without encoder.safetensors",
        "derain local-dir:{W}/run-no-encoder {W}/photos/good.png -o {W}/o", "run-no-encoder/encoder.safetensors: missing; without it",
        changed="derained with an untrained encoder: other PNGs on each run"),
    Row("analyze-no-encoder", "CoIC run without encoder.safetensors", "analyze cost {W}/run-no-encoder --no-progress",
        "run-no-encoder/encoder.safetensors: missing", changed="z analyses refused, cost measured a random encoder"),
    Row("push-no-encoder", "pushing a CoIC folder without encoder.safetensors", "push {W}/run-no-encoder --repo org/name",
        "run-no-encoder/encoder.safetensors: missing; a CoIC model pushed without it gives z from an untrained encoder",
        changed="pushed; whoever loaded it got z from an untrained encoder"),
    Row("evaluate-other-data", "evaluation on other data than the run's", "evaluate {W}/run --data synthmix:2 --device cpu",
        "metrics-synthmix2.json (not metrics.json", "accepted", 0, "run", check=lambda w: _only_side_file(w),
        changed="overwrote the run's metrics.json with the other evaluation"),
    Row("store-truncated-part", "results part cut mid-line", "leaderboard --store {W}/store-damaged",
        "damaged results file (truncated: its last line is incomplete); move it out of", changed="read as a row of missing values"),
    Row("store-skip-damaged", "results part cut mid-line, --skip-damaged", "leaderboard --store {W}/store-damaged --skip-damaged",
        "note: skipped", "accepted", 0, changed="--skip-damaged is new"),
    Row("store-zero-byte-part", "zero-byte results part", "leaderboard --store {W}/store-empty-part",
        "damaged results file (empty, zero bytes)", changed="pandas EmptyDataError traceback"),
    Row("store-binary-part", "binary file named part-*.csv", "leaderboard --store {W}/store-binary-part",
        "damaged results file (binary data, not CSV text)", changed="UnicodeDecodeError traceback"),
    Row("store-wrong-columns", "part of another table's columns", "leaderboard --store {W}/store-foreign-part",
        "damaged results file (wrong columns: unknown columns ['name', 'score']", changed="rows of missing values"),
    Row("bench-damaged-store", "zoo bench --resume-cells into a store with a zero-byte part",
        "bench {W}/matrices/tiny.yaml --runs {W}/bench/runs --store {W}/bench/store --resume-cells --no-progress --device cpu",
        "damaged results file (empty, zero bytes); its cells count as not stored", "accepted", 0, "bench",
        changed="EmptyDataError before training"),
    Row("pull-silent-hub", "a Hub that accepts connections and never answers", "pull org/brn-test",
        "did not answer (2 attempts of 0.2 s each (ZOO_NETWORK_TIMEOUT, ZOO_NETWORK_RETRIES))",
        env={"HF_ENDPOINT": "{SILENT}", "ZOO_NETWORK_TIMEOUT": "0.2", "ZOO_NETWORK_RETRIES": "1"},
        changed="waited for ever (no timeout on the repository lookup)"),
    Row("official-silent-server", "an official-checkpoint server that never answers", "pull rcdnet.official_baseline",
        "did not answer within 2 attempts of 0.2 s each",
        env={"ZOO_OFFICIAL_BASE_URL": "{SILENT}/", "ZOO_NETWORK_TIMEOUT": "0.2", "ZOO_NETWORK_RETRIES": "1"},
        changed="one try of 60 s, no retry"),
    Row("network-timeout-not-a-number", "ZOO_NETWORK_TIMEOUT=soon", "pull org/brn-test",
        "ZOO_NETWORK_TIMEOUT='soon' must be a number of seconds greater than 0", env={"ZOO_NETWORK_TIMEOUT": "soon"}),
    Row("train-disk-full", "the first checkpoint",
        "train brn --iters 1 --batch 2 --crop 32 --set synth_count=2 --set synth_size=48 --out {W}/full/run --no-progress",
        "train_state.pt: no space left on the device", code=1, writes="full", full_disk=True,
        changed="RuntimeError: [enforce fail at inline_container.cc:672] from torch's zip writer"),
    Row("ema-out-of-range", "--ema 1.5", "train brn --ema 1.5 --out {W}/new-run", "--ema 1.5 must be in [0, 1) (0 = off)",
        changed="accepted: an EMA that diverges"),
    Row("eval-tile-out-of-range", "--set eval_tile=-8", "train brn --set eval_tile=-8 --out {W}/new-run",
        "--set eval_tile=-8 must be none (the backbone's official tiling), 0 (whole images) or at least 16",
        changed="refused only after the whole training ran"),
    Row("lr-out-of-range", "--set lr=0", "train brn --set lr=0 --out {W}/new-run", "--set lr=0 must be greater than 0",
        changed="trained without learning"),
    Row("pickled-code", "checkpoint holding pickled code (os.system)", "convert {W}/code.pth -b brn -o {W}/converted",
        "code.pth holds pickled code (class posix.system); coic-zoo loads only tensors",
        changed="'not a readable PyTorch checkpoint (unrecognised format); download it again'"),
]


def _only_side_file(world: Path) -> None:
    assert not (world / "run" / "metrics.json").exists(), "an evaluation on other data wrote the run's metrics.json"
    assert (world / "run" / "metrics-synthmix2.json").is_file()


# --- fixtures ----------------------------------------------------------------------------------------


def _photos(folder: Path) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
    folder.mkdir(parents=True)
    Image.fromarray(rgb).save(folder / "good.png")
    Image.fromarray(rgb[..., 0]).save(folder / "gray.png")
    Image.fromarray(np.dstack([rgb, rgb[..., :1]]), "RGBA").save(folder / "rgba.png")
    Image.fromarray(rgb).convert("P").save(folder / "palette.png")
    Image.fromarray(rgb[..., 0].astype(np.uint16) * 257).save(folder / "gray16.png")
    save_png16(folder / "rgb48.png", rgb)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    Image.fromarray(rgb).save(folder / "rotated.jpg", exif=exif, quality=95)
    Image.fromarray(rgb[:4, :4]).save(folder / "tiny.png")
    shutil.copy(folder / "good.png", folder / "truncated.png")
    truncate(folder / "truncated.png")
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.jpg").write_text("not an image\n")


def _datasets(world: Path) -> None:
    import numpy as np

    from tests.fixtures_datasets import rainy_pixels

    rng = np.random.default_rng(1)
    stats = world / "stats" / "Rain200L" / "test"
    for i in range(1, 6):  # 16x16 pairs: large enough for the 11x11 SSIM window
        clean = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
        save(stats / "norain" / f"norain-{i}.png", clean)
        save(stats / "rain" / f"norain-{i}x2.png", np.maximum(clean, 200 * (rng.random((16, 16, 1)) < 0.1)).astype(np.uint8))
    save(stats / "rain" / "norain-2x2.png", rng.integers(0, 256, (16, 16), dtype=np.uint8))  # grayscale
    save(stats / "rain" / "norain-3x2.png", np.zeros((16, 12, 3), np.uint8))  # another size than its clean image
    save(stats / "rain" / "norain-4x2.png", np.zeros((8, 8, 3), np.uint8))  # smaller than the SSIM window ...
    save(stats / "norain" / "norain-4.png", np.zeros((8, 8, 3), np.uint8))  # ... on both sides
    rain800 = build_rain800(world / "stats", split="test", n=2)
    save(rain800 / "test" / "rain" / "rain-003.png", rainy_pixels(3))  # no norain-003.png
    check = build_rain200(world / "check", "Rain200H", split="test", n=2)
    save(check / "test" / "rain" / "norain-1x2.png", np.dstack([rainy_pixels(1), np.full((8, 10, 1), 255, np.uint8)]))
    save_png16(check / "test" / "rain" / "norain-2x2.png", rainy_pixels(2))


def _runs(world: Path) -> None:
    import torch

    import zoo
    from zoo.models.checkpoint import save_model_dir
    from zoo.training import TrainConfig, Trainer

    tiny = {"iters": 1, "stage1_iters": 0, "batch": 2, "crop": 32, "synth_count": 2, "synth_size": 48, "eval_count": 1, "eval_size": 48}
    Trainer(TrainConfig("brn", coic=True, **tiny), world / "run").fit()
    Trainer(TrainConfig("brn", coic=False, **tiny), world / "run-baseline").fit()
    save_model_dir(zoo.create_model("brn", coic=True), world / "model")
    save_model_dir(zoo.create_model("dgunet"), world / "dgunet")
    for name in ("run-bad-state", "run-foreign-state", "run-truncated", "run-tampered", "run-no-encoder"):
        shutil.copytree(world / "run", world / name)
    (world / "run-no-encoder" / "encoder.safetensors").unlink()
    torch.save({"weight": torch.zeros(2), "payload": _Pickled()}, world / "code.pth")
    truncate(world / "run-bad-state" / "train_state.pt")
    shutil.copy(world / "run-baseline" / "train_state.pt", world / "run-foreign-state" / "train_state.pt")
    truncate(world / "run-truncated" / "model.safetensors")
    _reshape_first_tensor(world / "run-tampered" / "model.safetensors")
    shutil.rmtree(world / "run-baseline")
    torch.manual_seed(0)


class _Pickled:
    def __reduce__(self) -> tuple:
        return (os.system, ("echo this must never run",))


def _reshape_first_tensor(path: Path) -> None:
    """Rewrite a safetensors header so its first tensor claims another (same-size) shape."""
    data = path.read_bytes()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + length])
    name = next(k for k in header if k != "__metadata__")
    header[name]["shape"] = [*header[name]["shape"], 1]
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + data[8 + length :])


def _matrices(folder: Path) -> None:
    folder.mkdir()
    base = "backbones: [brn]\nmethods: [coic]\ndata: [synthmix]\nseeds: [0]\n"
    (folder / "good.yaml").write_text(base)
    (folder / "broken.yaml").write_text("backbones: [brn\nmethods: coic\n")
    (folder / "list.yaml").write_text("- brn\n- idt\n")
    (folder / "lr-fast.yaml").write_text(base + "settings: {lr: fast}\n")
    (folder / "typo.yaml").write_text(base.replace("seeds:", "sedes:"))
    (folder / "model-arg.yaml").write_text(base + "settings: {model.widht: 3}\n")
    tiny = "settings: {iters: 1, batch: 2, crop: 32, synth_count: 2, synth_size: 48, eval_count: 1, eval_size: 48}\n"
    (folder / "tiny.yaml").write_text(base.replace("[coic]", "[baseline]") + tiny)


def _store(folder: Path) -> None:
    from zoo.evaluation.records import make_row
    from zoo.results.store import ResultsStore

    rows = [
        make_row(run=f"brn-tiny-synthmix-{method}-s0", backbone="brn", config="tiny", method=method, train_data="synthmix",
                 eval_dataset="light", metric="psnr", protocol="y-matlab", value=value, n_images=2, iterations=10, seed=0,
                 code_version="test", source="measured", citation="", tiled=False)
        for method, value in (("baseline", 30.0), ("coic", 31.0))
    ]
    ResultsStore(folder).append(rows)


def _damaged_stores(world: Path) -> None:
    """Copies of the store with one damaged part each, and the bench's store with a zero-byte part."""
    damage = {
        "store-damaged": lambda p: p.write_bytes(p.read_bytes()[:-7]),
        "store-empty-part": lambda p: p.write_bytes(b""),
        "store-binary-part": lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256))),
        "store-foreign-part": lambda p: p.write_text("name,score\nbrn,30.0\n"),
        "bench/store": lambda p: p.write_bytes(b""),
    }
    for name, spoil in damage.items():
        shutil.copytree(world / "store", world / name)
        part = world / name / "part-0-damaged.csv"
        shutil.copy(next((world / name).glob("part-*.csv")), part)
        spoil(part)


@pytest.fixture(scope="module")
def world() -> Iterator[Path]:
    """The fixture folder, world-readable (0755 folders, 0644 files) so that `nobody` rows can reach it."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # module fixtures run before conftest's one-thread fixture; see there why
    old_umask = os.umask(0o022)
    root = Path(tempfile.mkdtemp(prefix="zoo-bad-inputs-"))
    root.chmod(0o755)
    world = root / "w"
    world.mkdir()
    try:
        _photos(world / "photos")
        _datasets(world)
        _runs(world)
        _matrices(world / "matrices")
        _store(world / "store")
        _damaged_stores(world)
        (world / "empty").mkdir()
        (world / "a-file").write_text("a file where a folder is expected\n")
        (world / "unreadable").mkdir()
        shutil.copy(world / "photos" / "good.png", world / "unreadable" / "good.png")
        (world / "unreadable").chmod(0)
        (world / "read-only").mkdir()
        (world / "read-only").chmod(0o555)
        (world / "cwd").mkdir()
        yield world
    finally:
        torch.set_num_threads(threads)
        os.umask(old_umask)
        (world / "unreadable").chmod(0o755)
        (world / "read-only").chmod(0o755)
        shutil.rmtree(root)


# --- the corpus -----------------------------------------------------------------------------------------


def _hashes(folder: Path) -> dict[str, str]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if os.access(Path(dirpath, d), os.R_OK | os.X_OK) or os.geteuid() == 0]
        for name in filenames:
            path = Path(dirpath, name)
            out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@contextlib.contextmanager
def _as_nobody() -> Iterator[None]:
    """Drop root's permission bypass for the block (effective uid `nobody`); nothing to do for other users."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)


def _argv(row: Row, world: Path) -> list[str]:
    return [arg.replace("{W}", str(world)) for arg in row.args.split()]


@pytest.fixture(scope="module")
def silent() -> Iterator[str]:
    from tests.hub_server import silent_endpoint

    with silent_endpoint() as url:
        yield url


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_bad_input(row: Row, world: Path, silent: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(world / "cwd")
    monkeypatch.setenv("HF_HUB_CACHE", str(world.parent / "hf-cache"))  # outside the hashed folder; never the user's
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    if row.env:
        from huggingface_hub import constants

        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # read when huggingface_hub was imported
    for key, value in row.env.items():
        monkeypatch.setenv(key, value.replace("{SILENT}", silent))
    before = _hashes(world)
    if row.full_disk:
        from tests.full_disk import full_disk

        full_disk(monkeypatch)
    if row.nobody:
        import zoo.cli.derain  # noqa: F401  (modules load before the uid change: the interpreter lives under /root)
        import zoo.data.images  # noqa: F401
        import zoo.evaluation.inference  # noqa: F401
        import zoo.models.factory  # noqa: F401
        import zoo.results.boards  # noqa: F401
        import zoo.results.generated  # noqa: F401
        import zoo.results.plot  # noqa: F401
        import zoo.results.render  # noqa: F401
    with _as_nobody() if row.nobody else contextlib.nullcontext():
        code, out, err = run_cli(_argv(row, world), monkeypatch, capsys)
    after = _hashes(world)
    message = row.message.replace("{W}", str(world))
    shown = out + err
    assert code == row.code, shown
    assert message in " ".join(shown.split()), shown
    assert "Traceback" not in shown
    changed = [name for name in before if after.get(name) != before[name]]
    assert not changed, f"files changed or removed: {changed}"
    added = [name for name in after if name not in before]
    allowed = row.writes or "\0"
    assert all(name.startswith(allowed + os.sep) for name in added), f"unexpected new files: {added}"
    if row.verdict == "refused" and row.code == 2:
        lines = [line for line in err.strip().splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), err
    if row.verdict == "reported":
        assert err.count("error: ") >= 2, err  # each bad input on its own line, then the summary
    if row.check is not None:
        row.check(world)


def test_corpus_is_large_and_distinct() -> None:
    assert len(ROWS) >= 30
    assert len({row.id for row in ROWS}) == len(ROWS)
    assert {"accepted", "refused", "reported"} == {row.verdict for row in ROWS}


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["info", "brm"], monkeypatch, capsys)
    assert code == 2 and "Traceback" not in err and err.startswith("error: unknown backbone 'brm'")
    for args in (["--debug", "info", "brm"], ["info", "brm", "--debug"]):
        code, _, err = run_cli(args, monkeypatch, capsys)
        assert code == 2
        assert "Traceback (most recent call last)" in err and "UnknownNameError" in err
        assert err.strip().splitlines()[-1].startswith("error: unknown backbone 'brm'")


def test_usage_errors_are_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for args, expected in (
        (["infoo"], "No such command 'infoo'"),
        (["train", "brn", "--nope"], "No such option: --nope"),
        (["info"], "Missing argument"),
    ):
        code, out, err = run_cli(args, monkeypatch, capsys)
        assert code == 2 and expected in err and "--help`" in err, err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in out + err


def markdown() -> str:
    """The corpus as a markdown table (what `tests/bad_inputs.md` holds)."""
    lines = [
        "<!-- Generated by `python -m tests.test_bad_inputs > tests/bad_inputs.md`; checked by test_corpus_table_is_current. -->",
        "# Bad-input corpus",
        "",
        "Every row is one case of `tests/test_bad_inputs.py`: the command (`W` is the test's fixture folder), the",
        "message it must print (a part of it), whether the input is accepted, refused, or reported by a batch",
        "command that still processes the good inputs, and the exit status. Rows whose last column is not",
        "empty needed a code change (it says what happened before). SILENT is a loopback server that accepts",
        "connections and never answers.",
        "",
        "| # | input | command | message | verdict | exit | change needed |",
        "|---|---|---|---|---|---|---|",
    ]
    for number, row in enumerate(ROWS, start=1):
        env = "".join(f"{key}={value.replace('{SILENT}', 'SILENT')} " for key, value in row.env.items())
        command = env + "zoo " + row.args.replace("{W}", "W")
        message = row.message.replace("{W}", "W").replace("|", "\\|")
        who = (" (as a user without root)" if row.nobody else "") + (" (on a full disk)" if row.full_disk else "")
        lines.append(f"| {number} | {row.input}{who} | `{command}` | {message} | {row.verdict} | {row.code} | {row.changed} |")
    return "\n".join(lines) + "\n"


def test_corpus_table_is_current() -> None:
    assert TABLE.read_text(encoding="utf-8") == markdown(), "regenerate: python -m tests.test_bad_inputs > tests/bad_inputs.md"


if __name__ == "__main__":
    sys.stdout.write(markdown())
