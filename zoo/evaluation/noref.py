"""No-reference scores (NIQE, PIQE, entropy) for photos without ground truth, all computed offline.

Real rainy photos (Internet-Data/RealInt, SPA's real test photos without a clean image) and the held-out
synthmix `real-like` domain are scored with no-reference metrics. pyiqa is the engine (the optional
`iqa` extra, see `extras`), but only metrics that need no download are used, so a score never
depends on network access or on what a cache happens to hold. Checked with pyiqa 0.1.16, sockets
refused, empty TORCH_HOME and HF_HUB_OFFLINE=1 (`tests/test_noref.py` repeats it for the three used):

* `niqe`: with the NIQE prior shipped in this package (pyiqa would download it), see `niqe` below;
* `piqe` and `entropy`: no weights at all.

Every other pyiqa no-reference metric downloads something when it is built: learned ones their
weights (brisque, cnniqa, dbcnn, hyperiqa, maniqa, musiq, nima, paq2piq, topiq_nr, tres, unique,
uranker, wadiqam_nr, arniqa, metaiqa, afine_nr, compare2score, fgresq, q-realign), ilniqe, nrqm, pi and
niqe_matlab their parameter files, brisque_matlab its model; the CLIP-based ones (clipiqa, liqe,
laion_aes, maclip, qualiclip) also need `pkg_resources`, q-align `icecream`; fid and inception_score
compare distributions, not images.

Inputs are quantised to uint8 first (scores of saved PNGs, as CoIC's eval_niqe.py computes them),
then scored on the CPU in float32. The protocol name `NOREF_PROTOCOL` says so in result rows. What
each metric is (its minimum size, what computes it, which way is better) is its row in `metric_table`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType

import torch

from ..data.images import round_half_up
from ..errors import UnknownNameError, ZooError
from .extras import require_pyiqa
from .metric_table import METRIC_INFO, NIQE_PRIOR, NOREF_METRICS
from .metrics import PEAK, ImageLike, _to_batch

NOREF_PROTOCOL = "noref-uint8"
NOREF_DESCRIPTION = "no reference: output quantised to uint8 RGB, scored on the CPU in float32 by pyiqa, nothing downloaded"
NIQE_BLOCK = METRIC_INFO["niqe"].min_size  # one NIQE patch; smaller images crash inside pyiqa
NIQE_PARAMS_PATH = Path(__file__).parent / "assets" / "niqe_pris_params.mat"
NIQE_SETTINGS: Mapping[str, str] = MappingProxyType(
    {
        "implementation": "pyiqa niqe (version 'original', YIQ luma, as CoIC eval_niqe.py)",
        "prior": NIQE_PRIOR,
        "device": "cpu",
        "input": "uint8-quantised RGB",
    }
)


def check_metrics(names: Iterable[str]) -> tuple[str, ...]:
    """`names` validated (lower-cased, order kept, duplicates dropped); an unknown one lists the known."""
    chosen: list[str] = []
    for name in names:
        key = name.strip().lower()
        if key not in NOREF_METRICS:
            raise UnknownNameError(
                f"unknown no-reference metric '{name}'; offline ones: {', '.join(NOREF_METRICS)} "
                "(the others of pyiqa download weights)"
            )
        if key not in chosen:
            chosen.append(key)
    if not chosen:
        raise ZooError(f"no no-reference metric chosen; use any of {', '.join(NOREF_METRICS)}")
    return tuple(chosen)


def implementation(metric: str) -> str:
    """How `metric` is computed, with the installed pyiqa version, for result rows."""
    return f"{METRIC_INFO[metric].implementation}; pyiqa {require_pyiqa().__version__}"


def noref_scores(image: ImageLike, metrics: Iterable[str] = NOREF_METRICS) -> dict[str, float]:
    """{metric: score} of one image (uint8 H x W x 3, or float 3 x H x W in [0, 1]), offline."""
    names = check_metrics(metrics)
    batch = _to_batch(image, "image")
    if batch.shape[0] != 1:
        raise ZooError(f"no-reference metrics score one image at a time, got a batch of {batch.shape[0]}")
    h, w = batch.shape[-2:]
    for name in names:
        least = METRIC_INFO[name].min_size
        if min(h, w) < least:
            raise ZooError(f"{name} needs at least {least} x {least} pixels, got {h} x {w}")
    require_pyiqa()
    unit = (round_half_up(batch) / PEAK).to(torch.float32)
    scores: dict[str, float] = {}
    for name in names:
        if name == "niqe":
            scores[name] = niqe(unit)
            continue
        with torch.no_grad():
            scores[name] = float(_metric(name)(unit).item())
    return scores


def niqe(image: ImageLike) -> float:
    """NIQE of one image (lower is better), for test sets without ground truth such as RealInt.

    Computed as CoIC's eval_niqe.py does (pyiqa `niqe` defaults, CPU) on the uint8-quantised image
    (CoIC scored saved PNGs), but with the NIQE prior shipped in this package: pyiqa would download
    it, which fails offline, so nothing is ever downloaded here. See `NIQE_SETTINGS`.
    """
    batch = _to_batch(image, "image")
    if batch.shape[0] != 1:
        raise ZooError(f"niqe scores one image at a time, got a batch of {batch.shape[0]}; call it per image")
    if min(batch.shape[-2:]) < NIQE_BLOCK:
        raise ZooError(
            f"niqe needs at least {NIQE_BLOCK} x {NIQE_BLOCK} pixels (one NIQE block), got "
            f"{batch.shape[-2]} x {batch.shape[-1]}"
        )
    unit = (round_half_up(batch) / PEAK).to(torch.float32)
    with torch.no_grad():
        return float(_niqe_metric()(unit).item())


@functools.lru_cache(maxsize=1)
def _niqe_metric() -> torch.nn.Module:
    """pyiqa's NIQE with the packaged prior; built once because loading the prior and pyiqa is slow."""
    if not NIQE_PARAMS_PATH.is_file():
        raise ZooError(f"the NIQE prior {NIQE_PARAMS_PATH} is missing; reinstall coic-zoo")
    pyiqa = require_pyiqa("NIQE and the other no-reference metrics")
    return pyiqa.create_metric("niqe", device=torch.device("cpu"), pretrained_model_path=str(NIQE_PARAMS_PATH))


@functools.lru_cache(maxsize=None)
def _metric(name: str) -> torch.nn.Module:
    """A weight-free pyiqa metric on the CPU, built once."""
    return require_pyiqa().create_metric(name, device=torch.device("cpu"))
