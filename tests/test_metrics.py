"""Calibration of the metric protocols against references written straight from the formulas.

The references below are float64 numpy/scipy transcriptions of the published procedures (MATLAB's
rgb2ycbcr + Wang's SSIM_index with filter2 'valid'; CoIC's evaluation.py), independent of the
implementation in zoo.evaluation.metrics, on fixed seeded image pairs. pyiqa, the ecosystem reference, is
checked too, and so is the YIQ-vs-BT.601 trap that makes Python numbers ~1.3 dB lower than papers.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.signal
import torch

from zoo.errors import UnknownNameError, ZooError
from zoo.evaluation.metrics import score, score_batch
from zoo.evaluation.noref import NIQE_PARAMS_PATH, niqe
from zoo.evaluation.protocols import PROTOCOLS, get_protocol, list_protocols
from zoo.results.field import known_protocols

PSNR_TOL = 1e-4
SSIM_TOL = 1e-5


def make_pair(height: int, width: int, seed: int, sigma: float = 8.0) -> tuple[np.ndarray, torch.Tensor]:
    """A smooth, textured uint8 RGB target and a float32 3xHxW 'network output' with Gaussian noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    channels = [
        40 + 160 * xx + 40 * np.sin(2 * np.pi * (3 * xx + 2 * yy)),
        120 + 90 * np.cos(2 * np.pi * (1.5 * xx - 2.5 * yy)) * yy,
        200 - 150 * yy + 30 * np.sin(2 * np.pi * 5 * xx),
    ]
    texture = rng.normal(0.0, 6.0, (height, width, 3))
    target = np.clip(np.stack(channels, axis=-1) + texture, 0, 255).round().astype(np.uint8)
    noisy = np.clip(target / 255.0 + rng.normal(0.0, sigma / 255.0, target.shape), 0.0, 1.0)
    output = torch.from_numpy(noisy.transpose(2, 0, 1).astype(np.float32))
    return target, output


def ref_gaussian() -> np.ndarray:
    """MATLAB fspecial('gaussian', 11, 1.5)."""
    ax = np.arange(11) - 5.0
    xx, yy = np.meshgrid(ax, ax)
    h = np.exp(-(xx**2 + yy**2) / (2 * 1.5**2))
    return h / h.sum()


def ref_ssim_index(img1: np.ndarray, img2: np.ndarray, dynamic_range: float) -> float:
    """Zhou Wang's SSIM_index v1.0 (K = 0.01, 0.03), filter2 'valid', mean of the map."""
    window = ref_gaussian()
    c1, c2 = (0.01 * dynamic_range) ** 2, (0.03 * dynamic_range) ** 2

    def filt(image: np.ndarray) -> np.ndarray:
        return scipy.signal.correlate2d(image, window, mode="valid")

    mu1, mu2 = filt(img1), filt(img2)
    sigma1_sq = filt(img1 * img1) - mu1 * mu1
    sigma2_sq = filt(img2 * img2) - mu2 * mu2
    sigma12 = filt(img1 * img2) - mu1 * mu2
    ssim_map = ((2 * mu1 * mu2 + c1) * (2 * sigma12 + c2)) / (
        (mu1**2 + mu2**2 + c1) * (sigma1_sq + sigma2_sq + c2)
    )
    return float(ssim_map.mean())


def ref_psnr(a: np.ndarray, b: np.ndarray) -> float:
    rmse = math.sqrt(np.mean((a - b) ** 2))
    return 20 * math.log10(255 / rmse)


def quantise(output: torch.Tensor) -> np.ndarray:
    """uint8 levels of a [0, 1] output as save_image writes them, H x W x 3 float64."""
    return np.floor(output.numpy().astype(np.float64).transpose(1, 2, 0) * 255 + 0.5)


def matlab_y(rgb: np.ndarray) -> np.ndarray:
    """rgb2ycbcr(uint8) luma: T = (1/255) * [65.481 128.553 24.966], imlincomb in double, round half away."""
    t = np.array([65.481, 128.553, 24.966]) * (1 / 255)
    y = t[0] * rgb[..., 0] + t[1] * rgb[..., 1] + t[2] * rgb[..., 2] + 16
    return np.floor(y + 0.5)


def reference(protocol: str, target: np.ndarray, output: torch.Tensor) -> tuple[float, float]:
    """(PSNR, SSIM) of a pair, computed from the protocol's published formulas."""
    gt = target.astype(np.float64)
    if protocol == "y-matlab":
        a, b = matlab_y(quantise(output)), matlab_y(gt)
        return ref_psnr(a, b), ref_ssim_index(a, b, 255)
    if protocol == "rgb":
        a = quantise(output)
        return ref_psnr(a, gt), float(np.mean([ref_ssim_index(a[..., c], gt[..., c], 255) for c in range(3)]))
    if protocol == "rcdnet-matlab":
        return reference_rcdnet(quantise(output), gt)
    assert protocol == "coic-paper"
    out = np.clip(output.numpy().astype(np.float64), 0, 1).transpose(1, 2, 0) * 255
    weights = np.array([0.256789, 0.504129, 0.097906])
    a, b = out @ weights + 16, gt @ weights + 16
    psnr = -10 * math.log10(np.mean((a / 255 - b / 255) ** 2))
    a, b = a / 255, b / 255
    f = max(1, round(min(a.shape) / 256))
    if f > 1:
        h, w = a.shape[0] // f * f, a.shape[1] // f * f
        a = a[:h, :w].reshape(h // f, f, w // f, f).mean(axis=(1, 3))
        b = b[:h, :w].reshape(h // f, f, w // f, f).mean(axis=(1, 3))
    return psnr, ref_ssim_index(a, b, 1.0)


def reference_rcdnet(restored: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """RCDNet's Performance_evaluation/statistic.m with its psnr.m and ssim.m, from uint8 levels (H x W x 3)."""

    def luma(rgb: np.ndarray) -> np.ndarray:  # rgb2ycbcr(im2double(.)): double in, double out, no rounding
        unit = rgb / 255.0
        return (65.481 * unit[..., 0] + 128.553 * unit[..., 1] + 24.966 * unit[..., 2] + 16.0) / 255.0

    x, x_true = luma(restored), luma(truth)
    fmax = 2.0**8 - 1 if x.max() > 2 else 2.0**1 - 1  # psnr.m: k = 1 unless max(f1) > 2
    psnr = 10 * math.log10(fmax**2 / np.mean((x - x_true) ** 2))
    img1, img2 = x * 255, x_true * 255
    f = max(1, int(math.floor(min(img1.shape) / 256 + 0.5)))  # MATLAB round, half away from zero
    if f > 1:  # imfilter(ones(f)/f^2, 'symmetric', 'same'), centre floor((f+1)/2), then (1:f:end, 1:f:end)
        centre = (f + 1) // 2 - 1

        def box(image: np.ndarray) -> np.ndarray:
            padded = np.pad(image, ((centre, f - 1 - centre), (centre, f - 1 - centre)), mode="symmetric")
            out = sum(padded[i : i + image.shape[0], j : j + image.shape[1]] for i in range(f) for j in range(f))
            return (out / f**2)[::f, ::f]

        img1, img2 = box(img1), box(img2)
    return psnr, ref_ssim_index(img1, img2, 255)


CALIBRATION = [
    ("y-matlab", 64, 80, 1),
    ("y-matlab", 321, 481, 2),
    ("y-matlab", 512, 512, 3),
    ("rgb", 64, 80, 1),
    ("rgb", 321, 481, 2),
    ("coic-paper", 321, 481, 2),  # min side 321: f = round(1.25) = 1, no pooling (Rain200 sizes)
    ("coic-paper", 385, 513, 4),  # f = 2 on odd sides: avg_pool2d drops the last row and column
    ("coic-paper", 512, 512, 3),  # f = 2 (SPA, DID halves)
    ("coic-paper", 640, 700, 5),  # round(2.5) = 2 in Python (MATLAB's round would give 3)
    ("rcdnet-matlab", 321, 481, 2),  # f = 1
    ("rcdnet-matlab", 385, 513, 4),  # f = 2 on odd sides: the remainder row/column is kept (mirrored)
    ("rcdnet-matlab", 512, 384, 3),  # f = round(1.5) = 2 (DID 512 x 512 is the same case)
    ("rcdnet-matlab", 640, 700, 5),  # f = MATLAB round(2.5) = 3: an odd box centred on the kept pixel
]


@pytest.mark.parametrize(("protocol", "height", "width", "seed"), CALIBRATION)
def test_protocol_matches_reference_formula(protocol: str, height: int, width: int, seed: int) -> None:
    target, output = make_pair(height, width, seed)
    want_psnr, want_ssim = reference(protocol, target, output)
    got = score(output, target, protocol)
    assert got["protocol"] == protocol
    assert got["n"] == 1
    assert abs(got["psnr"] - want_psnr) < PSNR_TOL
    assert abs(got["ssim"] - want_ssim) < SSIM_TOL


@pytest.mark.parametrize(
    ("protocol", "psnr", "ssim"),
    [
        # MATLAB rgb2ycbcr: Y(255, 0, 0) = round(16 + 65.481) = 81, Y(0, 0, 0) = 16.
        ("y-matlab", 20 * math.log10(255 / 65), (2 * 81 * 16 + 6.5025) / (81**2 + 16**2 + 6.5025)),
        # CoIC: Y(255, 0, 0) = 16 + 0.256789 * 255, unrounded.
        (
            "coic-paper",
            20 * math.log10(1 / 0.256789),
            (2 * (16 + 0.256789 * 255) * 16 + 6.5025) / ((16 + 0.256789 * 255) ** 2 + 16**2 + 6.5025),
        ),
        # RCDNet's statistic.m: Y(255, 0, 0) = 16 + 65.481, unrounded (im2double before rgb2ycbcr).
        ("rcdnet-matlab", 20 * math.log10(255 / 65.481), (2 * 81.481 * 16 + 6.5025) / (81.481**2 + 16**2 + 6.5025)),
        # RGB: only R differs (mse = 255^2 / 3); SSIM of the equal G and B planes is 1.
        ("rgb", 10 * math.log10(3), (6.5025 / (255**2 + 6.5025) + 2) / 3),
    ],
)
def test_constant_colours_give_closed_form_values(protocol: str, psnr: float, ssim: float) -> None:
    """Pins each protocol's luma weights exactly, which the noisy pairs only see to ~1e-5 dB."""
    red = np.zeros((16, 16, 3), dtype=np.uint8)
    red[..., 0] = 255
    got = score(red, np.zeros_like(red), protocol)
    assert got["psnr"] == pytest.approx(psnr, abs=1e-9)
    assert got["ssim"] == pytest.approx(ssim, abs=1e-12)


def test_protocols_give_different_numbers() -> None:
    """The choices are not cosmetic: each protocol moves the number, which is why results name theirs."""
    target, output = make_pair(385, 513, 4)
    results = {name: score(output, target, name) for name in list_protocols()}
    assert abs(results["y-matlab"]["psnr"] - results["coic-paper"]["psnr"]) > 1e-3
    assert results["y-matlab"]["psnr"] - results["rgb"]["psnr"] > 2.0
    assert abs(results["y-matlab"]["ssim"] - results["coic-paper"]["ssim"]) > 1e-4
    assert abs(results["rcdnet-matlab"]["ssim"] - results["y-matlab"]["ssim"]) > 1e-4  # downsampled by 2
    assert abs(results["rcdnet-matlab"]["ssim"] - results["coic-paper"]["ssim"]) > 1e-5  # kept remainder row


@pytest.fixture(scope="module")
def pyiqa():
    """pyiqa, imported only by the tests that compare with it (the import takes seconds).

    It is the optional `iqa` extra (part of `[dev]`, so CI runs these); a core install skips them.
    """
    return pytest.importorskip("pyiqa")


def unit_batch(levels: np.ndarray) -> torch.Tensor:
    """H x W x 3 levels in [0, 255] as the 1 x 3 x H x W float32 [0, 1] batch pyiqa takes."""
    return torch.from_numpy(levels.transpose(2, 0, 1) / 255).float().unsqueeze(0)


def test_y_matlab_agrees_with_pyiqa_ycbcr(pyiqa) -> None:
    target, output = make_pair(321, 481, 2)
    quantised, reference_img = unit_batch(quantise(output)), unit_batch(target)
    psnr_metric = pyiqa.create_metric(
        "psnr", test_y_channel=True, color_space="ycbcr", data_range=255, device="cpu"
    )
    ssim_metric = pyiqa.create_metric("ssim", color_space="ycbcr", device="cpu")
    got = score(output, target, "y-matlab")
    assert abs(got["psnr"] - psnr_metric(quantised, reference_img).item()) < PSNR_TOL
    assert abs(got["ssim"] - ssim_metric(quantised, reference_img).item()) < SSIM_TOL


def test_pyiqa_default_yiq_psnr_is_the_1_3_db_trap(pyiqa) -> None:
    """pyiqa's psnry uses full-range YIQ luma; papers use limited-range BT.601, 20log10(255/219) dB higher."""
    target, output = make_pair(256, 256, 7, sigma=8.0)
    quantised, reference_img = unit_batch(quantise(output)), unit_batch(target)
    yiq = pyiqa.create_metric("psnry", device="cpu")(quantised, reference_img).item()
    ours = score(output, target, "y-matlab")["psnr"]
    assert ours - yiq > 1.0
    assert abs((ours - yiq) - 20 * math.log10(255 / 219)) < 0.1


def test_uint8_and_tensor_inputs_agree() -> None:
    target, output = make_pair(96, 128, 8)
    as_uint8 = quantise(output).astype(np.uint8)
    as_float = torch.from_numpy(as_uint8.transpose(2, 0, 1) / 255.0).float()
    as_uint8_tensor = torch.from_numpy(as_uint8.transpose(2, 0, 1).copy())
    batched_target = torch.from_numpy(target.transpose(2, 0, 1) / 255.0).unsqueeze(0)
    for protocol in list_protocols():
        # Quantising protocols recover the exact uint8 levels; coic-paper sees float32's k/255 error.
        psnr_tol, ssim_tol = (1e-9, 1e-12) if get_protocol(protocol).quantize else (PSNR_TOL, SSIM_TOL)
        want = score(as_uint8, target, protocol)
        for out, ref in ((as_float, target), (as_uint8_tensor, batched_target), (as_float.numpy(), target)):
            got = score(out, ref, protocol)
            assert got["psnr"] == pytest.approx(want["psnr"], abs=psnr_tol)
            assert got["ssim"] == pytest.approx(want["ssim"], abs=ssim_tol)


def test_batch_score_is_mean_of_per_image_rows() -> None:
    pairs = [make_pair(64, 72, seed, sigma) for seed, sigma in ((11, 4.0), (12, 16.0))]
    outputs = torch.stack([output for _, output in pairs])
    targets = np.stack([target for target, _ in pairs])
    rows = score_batch(outputs, targets)
    assert [row["protocol"] for row in rows] == ["y-matlab", "y-matlab"]
    for row, (target, output) in zip(rows, pairs, strict=True):
        single = score(output, target)
        assert row["psnr"] == single["psnr"] and row["ssim"] == single["ssim"]
    mean = score(outputs, targets)
    assert mean["n"] == 2
    assert mean["psnr"] == pytest.approx((rows[0]["psnr"] + rows[1]["psnr"]) / 2)
    assert mean["ssim"] == pytest.approx((rows[0]["ssim"] + rows[1]["ssim"]) / 2)
    assert rows[0]["psnr"] > rows[1]["psnr"] + 6


def test_identical_images_score_inf_and_one() -> None:
    target, _ = make_pair(40, 50, 9)
    for protocol in list_protocols():
        got = score(target, target.copy(), protocol)
        assert got["psnr"] == math.inf and got["ssim"] == pytest.approx(1.0, abs=1e-12)


def test_output_is_clamped_like_coic() -> None:
    target, output = make_pair(48, 48, 10)
    overshoot = output * 1.3 - 0.1
    assert score(overshoot, target, "coic-paper") == score(overshoot.clamp(0, 1), target, "coic-paper")


def test_protocol_registry() -> None:
    assert list_protocols()[0] == "y-matlab"
    assert set(list_protocols()) == {"y-matlab", "coic-paper", "rgb", "rcdnet-matlab", "basicsr-y", "float-y"}
    rcdnet = get_protocol("rcdnet-matlab")
    assert (rcdnet.quantize, rcdnet.round_y, rcdnet.ssim_downsample, rcdnet.downsample_style) == (True, False, True, "matlab")
    coic = get_protocol("coic-paper")
    assert coic is PROTOCOLS["coic-paper"]
    assert (coic.quantize, coic.round_y, coic.ssim_downsample) == (False, False, True)
    assert get_protocol(coic) is coic
    for protocol in PROTOCOLS.values():
        assert protocol.description and protocol.citation


def test_unknown_protocol_lists_the_known_ones() -> None:
    with pytest.raises(UnknownNameError) as excinfo:
        get_protocol("psnr-y")
    message = str(excinfo.value)
    assert "psnr-y" in message and "\n" not in message
    assert all(name in message for name in PROTOCOLS)
    target, output = make_pair(32, 32, 1)
    with pytest.raises(UnknownNameError):
        score(output, target, "yiq")


def test_shape_mismatch_names_both_shapes() -> None:
    target, _ = make_pair(40, 50, 1)
    output = torch.rand(3, 40, 52)
    with pytest.raises(ZooError) as excinfo:
        score(output, target)
    message = str(excinfo.value)
    assert "(3, 40, 52)" in message and "(40, 50, 3)" in message


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        (np.zeros((3, 40, 40), dtype=np.uint8), "H x W x 3"),
        (torch.zeros(40, 40, 3), "3 x H x W"),
        (np.zeros((40, 40, 3), dtype=np.int32), "dtype"),
        (torch.full((3, 40, 40), float("nan")), "NaN"),
        ([[0.0]], "numpy array or torch tensor"),
        (torch.zeros(0, 3, 40, 40), "empty"),
    ],
)
def test_bad_inputs_raise_zoo_error(bad: object, fragment: str) -> None:
    target = np.zeros((40, 40, 3), dtype=np.uint8)
    with pytest.raises(ZooError, match=fragment):
        score(bad, target)


def test_image_smaller_than_ssim_window_is_refused() -> None:
    tiny = np.zeros((8, 30, 3), dtype=np.uint8)
    with pytest.raises(ZooError, match="SSIM window"):
        score(tiny, tiny)


def test_niqe_refuses_images_it_cannot_score() -> None:
    """Checked before pyiqa is touched: a batch, or an image smaller than one 96x96 NIQE block."""
    with pytest.raises(ZooError, match="one image at a time"):
        niqe(torch.rand(2, 3, 128, 128))
    with pytest.raises(ZooError, match="96 x 96"):
        niqe(np.zeros((64, 200, 3), dtype=np.uint8))


def test_niqe_without_pyiqa_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyiqa is an extra (non-commercial licence): without it, one line naming the extra, no traceback."""
    import zoo.evaluation.noref as noref

    monkeypatch.setitem(sys.modules, "pyiqa", None)  # import pyiqa -> ImportError
    noref._niqe_metric.cache_clear()
    try:
        with pytest.raises(ZooError, match=r'pip install "coic-zoo\[iqa\]"') as caught:
            niqe(np.zeros((128, 128, 3), dtype=np.uint8))
    finally:
        noref._niqe_metric.cache_clear()
    assert "\n" not in str(caught.value)


def test_niqe_prior_ships_with_its_licence() -> None:
    params = scipy.io.loadmat(NIQE_PARAMS_PATH)
    assert params["mu_prisparam"].shape == (1, 36)
    cov = params["cov_prisparam"]
    assert cov.shape == (36, 36) and np.allclose(cov, cov.T)
    licence = (NIQE_PARAMS_PATH.parent / "LICENSE-basicsr-niqe.txt").read_text()
    assert "Apache License" in licence and "BasicSR" in licence


NIQE_SCRIPT = textwrap.dedent(
    """
    import json, socket, sys

    def refuse(*args, **kwargs):
        raise OSError("network access attempted during an offline NIQE test")

    socket.socket.connect = refuse
    socket.create_connection = refuse

    import numpy as np
    import zoo.evaluation.noref as noref

    lazy = "pyiqa" not in sys.modules
    from skimage import data

    clean = data.astronaut()
    rng = np.random.default_rng(0)
    noisy = np.clip(clean / 255.0 + rng.normal(0.0, 0.1, clean.shape), 0, 1).transpose(2, 0, 1)
    print(json.dumps({"lazy": lazy, "clean": noref.niqe(clean), "noisy": noref.niqe(noisy)}))
    """
)


def test_niqe_offline_with_packaged_prior(tmp_path: Path) -> None:
    """No cache, no hub, no sockets: NIQE must come from the shipped prior (and import pyiqa lazily)."""
    pytest.importorskip("pyiqa")
    pytest.importorskip("skimage")  # the astronaut image; scikit-image comes with pyiqa
    torch_home = tmp_path / "torch_home"
    torch_home.mkdir()
    repo_root = Path(__file__).resolve().parents[1]
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        TORCH_HOME=str(torch_home),
        HF_HOME=str(tmp_path / "hf_home"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(repo_root), env.get("PYTHONPATH")])),
    )
    done = subprocess.run(
        [sys.executable, "-c", NIQE_SCRIPT], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    values = json.loads(done.stdout.strip().splitlines()[-1])
    assert values["lazy"], "importing zoo.evaluation.noref must not import pyiqa"
    assert values["clean"] == pytest.approx(3.06, abs=0.02)  # pyiqa/BasicSR value for astronaut
    assert values["noisy"] > values["clean"] + 5
    assert not any(torch_home.rglob("*")), "nothing may be downloaded or cached"


def test_every_reported_row_names_the_protocol_that_produced_it() -> None:
    """Reported numbers are only comparable under their protocol: each row must name a known one (or
    say that its source states none).

    The CoIC README's DRSformer rows (all six test sets, DID and DDN included) come from its
    test_model.py, which scores with evaluation.py: `coic-paper`, not RCDNet's MATLAB `rcdnet-matlab`.
    """
    import csv

    rows = []
    for path in sorted((Path(__file__).parents[1] / "leaderboards" / "reported").glob("*.csv")):
        with open(path, newline="") as handle:
            rows += [(path.name, row) for row in csv.DictReader(handle)]
    assert rows
    allowed = known_protocols()  # ours, or `unstated` where the source does not say (tests/test_reported.py)
    for name, row in rows:
        assert row["protocol"] in allowed, f"{name}: run {row['run']} names protocol {row['protocol']!r}"
    drsformer = [row for name, row in rows if name == "coic-official-drsformer.csv"]
    assert {row["protocol"] for row in drsformer} == {"coic-paper"}
