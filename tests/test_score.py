"""`zoo score` and the protocols it adds (basicsr-y, float-y), against formulas written here independently.

The new protocols' references transcribe BasicSR's and FADformer's code step by step in numpy (float32
where they use float32); the four older protocols reuse the references of test_metrics. The CLI tests
build a ground-truth folder and a prediction folder with known differences and compare `zoo score`'s
per-image CSV, printed means and store rows with those references.
"""

from __future__ import annotations

import csv
import math
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import scipy.signal
import torch
from PIL import Image

from tests.cli_runner import run_cli
from tests.test_metrics import make_pair, ref_gaussian, reference
from zoo.evaluation.metrics import score
from zoo.evaluation.output_pairs import pair_key
from zoo.evaluation.protocol_maths import round_half_even_float32
from zoo.evaluation.protocols import get_protocol, list_protocols
from zoo.results.store import ResultsStore

PSNR_TOL = 1e-4
SSIM_TOL = 1e-5


def basicsr_reference(output: torch.Tensor | np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """BasicSR: tensor2img (float32, round half even, BGR), to_y_channel (float32 / bgr2ycbcr), calculate_psnr/ssim."""

    def tensor2img(image: torch.Tensor | np.ndarray) -> np.ndarray:
        if isinstance(image, np.ndarray):  # uint8 RGB H x W x 3, as read from a PNG
            return image[..., ::-1]
        img = np.clip(image.numpy().astype(np.float32), 0, 1).transpose(1, 2, 0)[..., ::-1]
        return (img * 255.0).round().astype(np.uint8)

    def to_y_channel(img: np.ndarray) -> np.ndarray:
        unit = img.astype(np.float32) / 255.0
        luma = (np.dot(unit, [24.966, 128.553, 65.481]) + 16.0) / 255.0
        return luma.astype(np.float32) * 255.0

    a = to_y_channel(tensor2img(output)).astype(np.float64)
    b = to_y_channel(target[..., ::-1]).astype(np.float64)
    mse = np.mean((a - b) ** 2)
    window = ref_gaussian()

    def filt(image: np.ndarray) -> np.ndarray:  # cv2.filter2D(img, -1, window)[5:-5, 5:-5]
        return scipy.signal.correlate2d(image, window, mode="valid")

    mu1, mu2 = filt(a), filt(b)
    s11, s22, s12 = filt(a * a) - mu1**2, filt(b * b) - mu2**2, filt(a * b) - mu1 * mu2
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    ssim_map = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1**2 + mu2**2 + c1) * (s11 + s22 + c2))
    return 10.0 * math.log10(255.0 * 255.0 / mse), float(ssim_map.mean())


def float_y_reference(output: torch.Tensor, target: np.ndarray) -> tuple[float, float]:
    """FADformer's calculate_psnr_torch in float64: Y on [0, 1], PSNR peak 1, pytorch_msssim's separable SSIM, data_range 1."""
    weights = np.array([65.481, 128.553, 24.966]) / 255
    a = np.clip(output.numpy().astype(np.float64), 0, 1).transpose(1, 2, 0) @ weights + 16 / 255
    b = (target / 255.0) @ weights + 16 / 255
    coords = np.arange(11) - 5.0
    taps = np.exp(-(coords**2) / (2 * 1.5**2))
    taps /= taps.sum()

    def blur(image: np.ndarray) -> np.ndarray:
        rows = np.apply_along_axis(lambda r: np.convolve(r, taps, mode="valid"), 1, image)
        return np.apply_along_axis(lambda c: np.convolve(c, taps, mode="valid"), 0, rows)

    mu1, mu2 = blur(a), blur(b)
    s11, s22, s12 = blur(a * a) - mu1**2, blur(b * b) - mu2**2, blur(a * b) - mu1 * mu2
    c1, c2 = 0.01**2, 0.03**2
    ssim_map = ((2 * mu1 * mu2 + c1) / (mu1**2 + mu2**2 + c1)) * ((2 * s12 + c2) / (s11 + s22 + c2))
    return 10 * math.log10(1 / np.mean((a - b) ** 2)), float(ssim_map.mean())


def any_reference(protocol: str, target: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    """The reference (PSNR, SSIM) of a saved uint8 prediction under any protocol."""
    as_float = torch.from_numpy(pred.transpose(2, 0, 1) / 255.0)
    if protocol == "basicsr-y":
        return basicsr_reference(pred, target)
    if protocol == "float-y":
        return float_y_reference(as_float, target)
    return reference(protocol, target, as_float)


@pytest.mark.parametrize("protocol", ["basicsr-y", "float-y"])
@pytest.mark.parametrize(("height", "width", "seed"), [(64, 80, 1), (321, 481, 2)])
def test_new_protocols_match_reference_formula(protocol: str, height: int, width: int, seed: int) -> None:
    target, output = make_pair(height, width, seed)
    want, got = (basicsr_reference if protocol == "basicsr-y" else float_y_reference)(output, target), score(output, target, protocol)
    assert abs(got["psnr"] - want[0]) < PSNR_TOL and abs(got["ssim"] - want[1]) < SSIM_TOL


def test_basicsr_quantises_as_tensor2img() -> None:
    """(img * 255.0).round() on float32: a product that rounds to k + 0.5 in float32 goes to the even level."""
    x = np.nextafter(np.float32(100.5 / 255), np.float32(1), dtype=np.float32)  # float64 product just above 100.5
    while float(np.float32(x) * np.float32(255.0)) != 100.5:
        x = np.nextafter(x, np.float32(0), dtype=np.float32)
    levels = torch.tensor([float(x) * 255.0, 2.5, 3.5, 17.0], dtype=torch.float64)  # the first: a near-tie in float64
    assert round_half_even_float32(levels).tolist() == [100.0, 2.0, 4.0, 17.0] and torch.floor(levels[0] + 0.5) == 101
    assert (np.array([x], dtype=np.float32) * 255.0).round()[0] == 100.0  # what BasicSR computes


@pytest.mark.parametrize("protocol", ["basicsr-y", "float-y"])
def test_new_protocols_constant_colours(protocol: str) -> None:
    """Red against black: Y = 16 + 65.481 vs 16, unrounded, so PSNR = 20log10(255/65.481)."""
    red = np.zeros((16, 16, 3), dtype=np.uint8)
    red[..., 0] = 255
    got = score(red, np.zeros_like(red), protocol)
    assert got["psnr"] == pytest.approx(20 * math.log10(255 / 65.481), abs=1e-5)
    assert got["ssim"] == pytest.approx((2 * 81.481 * 16 + 6.5025) / (81.481**2 + 16**2 + 6.5025), abs=1e-7)


def test_float_y_agrees_with_pytorch_msssim() -> None:
    """FADformer's own float32 computation (on the CPU here) lands within the calibration tolerance."""
    ssim = pytest.importorskip("pytorch_msssim").ssim
    target, output = make_pair(321, 481, 3)
    weights = torch.tensor([[65.481 / 255], [128.553 / 255], [24.966 / 255]])
    gt = torch.from_numpy(target.transpose(2, 0, 1) / 255.0).float().unsqueeze(0)

    def luma(img: torch.Tensor) -> torch.Tensor:
        return (torch.mm(img.permute(0, 2, 3, 1).reshape(-1, 3), weights) + 16.0 / 255).reshape(1, *img.shape[2:], 1).permute(0, 3, 1, 2)

    a, b = luma(gt), luma(output.clamp(0, 1).unsqueeze(0))
    psnr, got = float(10 * torch.log10(1 / torch.nn.functional.mse_loss(b, a))), score(output, target, "float-y")
    assert abs(got["psnr"] - psnr) < PSNR_TOL
    assert abs(got["ssim"] - float(ssim(a, b, data_range=1, size_average=False).mean())) < SSIM_TOL


@pytest.mark.parametrize(
    ("stem", "key"),
    [("rain-001", "1"), ("norain-1", "1"), ("norain-12x2", "12"), ("000gt", "0"), ("IMG_5_derained", "img_5"),
     ("5_x1", "5"), ("rain_12_out", "12"), ("norain-3x2_derained", "3"), ("901_1", "901_1"), ("box2", "box2"), ("out", "out")],
)
def test_pairing_rule(stem: str, key: str) -> None:
    assert pair_key(stem) == key


def save(path: Path, pixels: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


SIZES = [(64, 80, 11), (72, 96, 12), (400, 416, 13)]  # the last is downsampled by coic-paper and rcdnet-matlab


def build_folders(root: Path, sizes: list[tuple[int, int, int]] = SIZES) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """GT/norain-<i>.png and PRED/rain-00<i>_out.png (a noisy, quantised copy): key -> (target, prediction)."""
    pairs = {}
    for i, (height, width, seed) in enumerate(sizes, start=1):
        target, output = make_pair(height, width, seed, sigma=4.0 * i)
        pred = np.floor(output.numpy().transpose(1, 2, 0).astype(np.float64) * 255 + 0.5).astype(np.uint8)
        save(root / "GT" / f"norain-{i}.png", target)
        save(root / "PRED" / f"rain-00{i}_out.png", pred)
        pairs[str(i)] = (target, pred)
    return pairs


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def table_rows(out: str) -> list[list[str]]:
    """The body cells of the rich tables printed in `out`, one list per row."""
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in out.splitlines() if line.startswith("│")]


def test_score_every_protocol_matches_the_formulas(tmp_path: Path, monkeypatch, capsys) -> None:
    pairs = build_folders(tmp_path)
    args = ["score", str(tmp_path / "PRED"), "--gt", str(tmp_path / "GT"), "--protocol", "all", "--per-image", str(tmp_path / "pi.csv")]
    code, out, err = run_cli(args, monkeypatch, capsys)
    assert code == 0, err
    assert "pairing: files pair by name" in out and "scored 3 pairs" in out
    lines = read_csv(tmp_path / "pi.csv")
    assert len(lines) == 3 * len(list_protocols())
    for protocol in list_protocols():
        psnrs, ssims = [], []
        for line in (x for x in lines if x["protocol"] == protocol):
            want_psnr, want_ssim = any_reference(protocol, *pairs[line["key"]])
            assert abs(float(line["psnr"]) - want_psnr) < PSNR_TOL, (protocol, line["key"])
            assert abs(float(line["ssim"]) - want_ssim) < SSIM_TOL, (protocol, line["key"])
            psnrs.append(want_psnr)
            ssims.append(want_ssim)
        cells = next(cells for cells in table_rows(out) if cells[0] == protocol)
        assert cells[1:3] == ["3", f"{np.mean(psnrs):.3f}"] and cells[4] == f"{np.mean(ssims):.5f}"
    assert "Δ PSNR vs y-matlab" in out


def test_store_rows_reach_the_leaderboard(tmp_path: Path, monkeypatch, capsys) -> None:
    build_folders(tmp_path, SIZES[:2])
    store = tmp_path / "store"
    args = ["score", str(tmp_path / "PRED"), "--gt", str(tmp_path / "GT"), "--protocol", "y-matlab", "--protocol", "basicsr-y",
            "--store", str(store), "--method", "noisy-copy", "--dataset", "rain200h"]
    code, out, err = run_cli(args, monkeypatch, capsys)
    assert code == 0, err
    rows = ResultsStore(store).load()
    assert len(rows) == 4 and set(rows["source"]) == {"outputs"} and set(rows["eval_dataset"]) == {"rain200h"}
    assert set(rows["protocol"]) == {"y-matlab", "basicsr-y"} and set(rows["n_images"]) == {2}
    assert rows["implementation"].isna().all()  # plain 8-bit RGB, nothing cropped: nothing to note
    assert len(ResultsStore(store).load_images()) == 4  # 2 images x 2 protocols
    code, out, err = run_cli(["leaderboard", "--store", str(store)], monkeypatch, capsys)
    assert code == 0, err
    assert "noisy-copy" in out and "outputs" in out and "rain200h" in out


def test_ground_truth_from_a_dataset_layout(tmp_path: Path, monkeypatch, capsys) -> None:
    """PRED named after the rainy images (as `zoo derain` writes them), GT from `zoo data synth`'s layout."""
    assert run_cli(["data", "synth", str(tmp_path / "syn"), "--per-set", "2", "--size", "48", "--domains", "light,heavy"],
                   monkeypatch, capsys)[0] == 0
    for rainy in sorted((tmp_path / "syn" / "test" / "rain").glob("*.png")):
        save(tmp_path / "PRED" / rainy.name, np.array(Image.open(rainy)))  # "derained" = the rainy input itself
    store = tmp_path / "store"
    for data in (["--data", "paired"], ["--data", "rain200l", "--allow-partial"]):
        args = ["score", str(tmp_path / "PRED"), *data, "--root", str(tmp_path / "syn"), "--store", str(store), "--method", "identity"]
        code, out, err = run_cli(args, monkeypatch, capsys)
        assert code == 0, err
        assert "scored 4 pairs" in out
    rows = ResultsStore(store).load().set_index(["eval_dataset", "metric"])["value"]
    folder = tmp_path / "syn" / "test"
    want = np.mean([score(np.array(Image.open(folder / f"rain/norain-{i}x2.png")), np.array(Image.open(folder / f"norain/norain-{i}.png")))["psnr"]
                    for i in range(1, 5)])
    assert rows["paired", "psnr"] == pytest.approx(want, abs=1e-9) and rows["rain200l", "psnr"] == pytest.approx(want, abs=1e-9)


def test_written_outputs_score_like_evaluate_set(tmp_path: Path, monkeypatch, capsys) -> None:
    """`zoo derain` PNGs scored by `zoo score` = `evaluate_set` on the float outputs, for every quantising protocol.

    `write_png` and the half-up protocols share one quantiser (`zoo.data.images.round_half_up`), so those
    are exact. basicsr-y quantises as BasicSR's `tensor2img` does (float32, half to even), which differs
    from a written PNG on near-ties only (the product within a float32 rounding of k + 0.5), a few values
    in 10^4, whose effect on the score is bounded here.
    """
    from tests.test_external_backbones import _published_like
    from zoo.data.layouts import open_dataset
    from zoo.data.mixing import to_tensor
    from zoo.evaluation.evaluate import evaluate_set
    from zoo.evaluation.inference import restore
    from zoo.models.checkpoint import load_model_dir
    from zoo.models.convert import convert_external

    assert run_cli(["data", "synth", str(tmp_path / "syn"), "--per-set", "2", "--size", "48", "--domains", "light,heavy"],
                   monkeypatch, capsys)[0] == 0
    _published_like("nafnet", tmp_path / "nafnet.pth")
    convert_external(tmp_path / "nafnet.pth", tmp_path / "model")
    code, _, err = run_cli(["derain", f"local-dir:{tmp_path / 'model'}", str(tmp_path / "syn/test/rain"), "--out",
                            str(tmp_path / "PRED"), "--device", "cpu"], monkeypatch, capsys)
    assert code == 0, err
    quantising = [name for name in list_protocols() if get_protocol(name).quantize]
    args = ["score", str(tmp_path / "PRED"), "--data", "paired", "--root", str(tmp_path / "syn"), "--per-image", str(tmp_path / "pi.csv")]
    code, _, err = run_cli(args + [item for name in quantising for item in ("--protocol", name)], monkeypatch, capsys)
    assert code == 0, err
    lines = read_csv(tmp_path / "pi.csv")
    model = load_model_dir(tmp_path / "model")
    pairs = open_dataset("paired", tmp_path / "syn", "test")
    with torch.no_grad():
        outputs = [restore(model, to_tensor(rainy).unsqueeze(0), None, 0).double().clamp(0, 1) * 255 for rainy, _ in pairs]
    written = [torch.from_numpy(np.array(Image.open(tmp_path / "PRED" / p.rainy.name))).permute(2, 0, 1) for p in pairs.pairs]
    for protocol in quantising:
        want = evaluate_set(model, pairs, protocol, tile=None, batch=1)["per_image"]
        got = [line for line in lines if line["protocol"] == protocol]
        assert [line["key"] for line in got] == [str(i) for i in range(1, 5)]
        half_even = get_protocol(protocol).quantize_rounding == "half_even_float32"
        for line, row, output, png in zip(got, want, outputs, written, strict=True):
            levels = round_half_even_float32(output) if half_even else torch.floor(output + 0.5)
            differ = int((levels[0] != png).sum())
            assert differ <= max(2, png.numel() // 2000) if half_even else differ == 0
            tolerance = (1e-7, 1e-9) if differ == 0 else (1e-3, 1e-5)
            assert float(line["psnr"]) == pytest.approx(row["psnr"], abs=tolerance[0]), (protocol, line["key"], differ)
            assert float(line["ssim"]) == pytest.approx(row["ssim"], abs=tolerance[1]), (protocol, line["key"], differ)


def one_line_error(code: int, out: str, err: str) -> str:
    assert code == 2 and "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def score_args(tmp_path: Path, *extra: str) -> list[str]:
    """`zoo score` writing a per-image CSV and store rows, so a test can check that nothing was written."""
    return ["score", str(tmp_path / "PRED"), "--gt", str(tmp_path / "GT"), "--per-image", str(tmp_path / "pi.csv"),
            "--store", str(tmp_path / "store"), "--method", "m", *extra]


def nothing_written(tmp_path: Path) -> bool:
    return not (tmp_path / "pi.csv").exists() and not (tmp_path / "store").exists()


def test_unmatched_files_are_counted_and_named(tmp_path: Path, monkeypatch, capsys) -> None:
    pairs = build_folders(tmp_path, SIZES[:2])
    target, pred = pairs["1"]
    save(tmp_path / "PRED" / "stray_a.png", pred)
    save(tmp_path / "PRED" / "stray_b.png", pred)
    save(tmp_path / "GT" / "norain-7.png", target)
    line = one_line_error(*run_cli(score_args(tmp_path), monkeypatch, capsys))
    assert "2 of 4 predictions have no ground truth (stray_a.png, stray_b.png)" in line
    assert "1 of 3 ground-truth images have no prediction (norain-7.png)" in line
    assert nothing_written(tmp_path)


def test_size_mismatch_is_refused_unless_crop_to_gt(tmp_path: Path, monkeypatch, capsys) -> None:
    pairs = build_folders(tmp_path, SIZES[:1])
    target, pred = pairs["1"]
    larger = np.pad(pred, ((0, 2), (0, 4), (0, 0)), mode="edge")
    save(tmp_path / "PRED" / "rain-001_out.png", larger)
    line = one_line_error(*run_cli(score_args(tmp_path), monkeypatch, capsys))
    assert "rain-001_out.png is 84x66 px but its ground truth" in line and "norain-1.png is 80x64" in line
    assert "predictions are never resized: pass --crop-to-gt" in line and nothing_written(tmp_path)
    code, out, err = run_cli(score_args(tmp_path, "--crop-to-gt"), monkeypatch, capsys)
    assert code == 0, err
    assert "note: --crop-to-gt: 1 of 1 predictions cropped to their ground truth's size (top-left kept)" in out
    rows = ResultsStore(tmp_path / "store").load()
    assert rows["implementation"].str.contains("--crop-to-gt: 1 of 1").all()
    assert rows.loc[rows["metric"] == "psnr", "value"].item() == pytest.approx(score(pred, target)["psnr"], abs=1e-9)
    save(tmp_path / "PRED" / "rain-001_out.png", pred[:-1])
    line = one_line_error(*run_cli(score_args(tmp_path, "--crop-to-gt") + ["--per-image", str(tmp_path / "b.csv")], monkeypatch, capsys))
    assert "is 80x63 px" in line and "smaller than its ground truth cannot be scored" in line


def write_png16(path: Path, pixels: np.ndarray) -> Path:
    """A 16-bit RGB(A) PNG written by hand (Pillow cannot write one), pixels uint16 H x W x 3 or 4."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    height, width, channels = pixels.shape
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 16, 2 if channels == 3 else 6, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return path


def test_16_bit_and_alpha_outputs_are_read_by_a_stated_rule(tmp_path: Path, monkeypatch, capsys) -> None:
    from zoo.evaluation.output_images import NOTE_16BIT, NOTE_ALPHA

    pairs = build_folders(tmp_path, SIZES[:2])
    rng = np.random.default_rng(0)
    deep = np.clip(pairs["1"][1].astype(np.int64) * 257 + rng.integers(-300, 300, pairs["1"][1].shape), 0, 65535).astype(np.uint16)
    (tmp_path / "PRED" / "rain-001_out.png").unlink()
    write_png16(tmp_path / "PRED" / "rain-001_out.png", np.dstack([deep, np.full(deep.shape[:2], 65535, np.uint16)]))
    alpha = np.dstack([pairs["2"][1], np.full(pairs["2"][1].shape[:2], 128, np.uint8)])
    Image.fromarray(alpha, "RGBA").save(tmp_path / "PRED" / "rain-002_out.png")
    code, out, err = run_cli(score_args(tmp_path, "--protocol", "y-matlab", "--protocol", "float-y"), monkeypatch, capsys)
    assert code == 0, err
    assert f"note: {NOTE_16BIT}" in out and f"note: {NOTE_ALPHA}" in out
    rows = ResultsStore(tmp_path / "store").load()
    assert rows["implementation"].str.contains("65535").all() and rows["implementation"].str.contains("alpha").all()
    lines = {(line["key"], line["protocol"]): line for line in read_csv(tmp_path / "pi.csv")}
    as_float = torch.from_numpy(deep.transpose(2, 0, 1) / 65535.0)
    for protocol in ("y-matlab", "float-y"):
        assert float(lines["1", protocol]["psnr"]) == pytest.approx(score(as_float, pairs["1"][0], protocol)["psnr"], abs=1e-8)
        assert float(lines["2", protocol]["psnr"]) == pytest.approx(score(pairs["2"][1], pairs["2"][0], protocol)["psnr"], abs=1e-8)


@pytest.mark.parametrize(
    ("arrange", "expected"),
    [
        ("gray", "rain-001_out.png is grayscale (mode L); scoring needs RGB images"),
        ("empty", "the folder holds no images"),
        ("missing", "no such folder"),
        ("unreadable", "rain-001_out.png: not a readable image"),
    ],
)
def test_bad_prediction_files_are_one_line(arrange: str, expected: str, tmp_path: Path, monkeypatch, capsys) -> None:
    pairs = build_folders(tmp_path, SIZES[:1])
    pred_file = tmp_path / "PRED" / "rain-001_out.png"
    if arrange == "gray":
        Image.fromarray(pairs["1"][1][..., 0]).save(pred_file)
    elif arrange == "unreadable":
        pred_file.write_bytes(b"not a png")
    else:
        pred_file.unlink()
        if arrange == "missing":
            (tmp_path / "PRED").rmdir()
    assert expected in one_line_error(*run_cli(score_args(tmp_path), monkeypatch, capsys))
    assert nothing_written(tmp_path)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--data", "rain200h", "--root", "x"], "either as --gt FOLDER or as --data NAME --root DIR"),
        (["--protocol", "psnr-y"], "unknown metric protocol 'psnr-y'"),
        (["--method", "only"], "--store DIR and --method NAME go together"),
    ],
)
def test_option_mistakes_are_one_line(extra: list[str], expected: str, tmp_path: Path, monkeypatch, capsys) -> None:
    build_folders(tmp_path, SIZES[:1])
    args = ["score", str(tmp_path / "PRED"), "--gt", str(tmp_path / "GT"), "--per-image", str(tmp_path / "pi.csv"), *extra]
    assert expected in one_line_error(*run_cli(args, monkeypatch, capsys))
    assert nothing_written(tmp_path)
