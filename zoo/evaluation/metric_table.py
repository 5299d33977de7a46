"""The metric table: one `MetricInfo` per metric, the only place a fact about a metric is written.

Printers (the CLI tables), the results store's per-image files and the leaderboards all need to know
of a metric whether higher is better, how many digits to show, whether it needs a clean reference,
how small an image it accepts and what computes it. Kept in one table, a new metric is one row and a
board cannot rank it one way while a printer rounds it another. The lists callers iterate over
(`PAIRED_METRICS`, `FULL_REFERENCE`, `NOREF_METRICS`) are read off the table, not written again.

Every metric is also scored on the rainy input (the "no derain" baseline of every table): that
`input_` row is derived from the metric's own row, so the two cannot drift apart. This module
imports nothing heavy, so the row schema and the boards stay cheap to import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from .protocols import Protocol

INPUT_PREFIX = "input_"
# The NIQE prior shipped in this package (pyiqa would download it), named in result rows.
NIQE_PRIOR = "BasicSR 1.4.2 niqe_pris_params.npz (MATLAB NIQE prior), shipped as niqe_pris_params.mat"


@dataclass(frozen=True)
class MetricInfo:
    """How a metric is named, shown, ranked and computed wherever a number of it is printed or tabulated.

    digits: decimals printed. min_size: the smallest image side the metric scores (NIQE's 96-pixel
    block, SSIM's window of the protocols). implementation: what computes the metric, written into
    result rows; empty for PSNR/SSIM, whose protocol says everything. full_reference: needs the clean
    image. on_input: the metric scored on the rainy input rather than on the model's output.
    """

    name: str
    label: str
    unit: str = ""
    digits: int = 3
    lower_better: bool = False
    full_reference: bool = False
    min_size: int = 1
    implementation: str = ""
    on_input: bool = False


def _on_input(info: MetricInfo) -> MetricInfo:
    return replace(info, name=f"{INPUT_PREFIX}{info.name}", label=f"input {info.label}", on_input=True)


_FULL_REFERENCE_ROWS = (
    MetricInfo("psnr", "PSNR", "dB", 2, full_reference=True),
    MetricInfo("ssim", "SSIM", "", 4, full_reference=True, min_size=Protocol.ssim_window),
)
_NOREF_ROWS = (
    # 96: pyiqa's (and the MATLAB release's) NIQE patch size; smaller images crash inside pyiqa.
    MetricInfo("niqe", "NIQE", "", 3, lower_better=True, min_size=96, implementation=f"pyiqa niqe, {NIQE_PRIOR}"),
    MetricInfo("piqe", "PIQE", "", 2, lower_better=True, min_size=16, implementation="pyiqa piqe (no learned weights)"),
    MetricInfo("entropy", "entropy", "bits", 3, implementation="pyiqa entropy (no learned weights)"),
)

METRIC_INFO: Mapping[str, MetricInfo] = MappingProxyType(
    {
        info.name: info
        for info in (
            *_FULL_REFERENCE_ROWS,
            *map(_on_input, _FULL_REFERENCE_ROWS),
            *_NOREF_ROWS,
            *map(_on_input, _NOREF_ROWS),
        )
    }
)

# The full-reference metrics of the output (the per-image scores a run stores), then of the input too.
FULL_REFERENCE = tuple(m.name for m in METRIC_INFO.values() if m.full_reference and not m.on_input)
PAIRED_METRICS = tuple(m.name for m in METRIC_INFO.values() if m.full_reference)
# The no-reference metrics computed offline (see `noref`).
NOREF_METRICS = tuple(m.name for m in METRIC_INFO.values() if not m.full_reference and not m.on_input)


def metric_info(name: str) -> MetricInfo:
    """The metadata of metric `name`; a metric the suite does not know is shown as is, higher better."""
    return METRIC_INFO.get(name) or MetricInfo(name, name)


def format_value(name: str, value: float, signed: bool = False) -> str:
    """`value` of metric `name` with the table's digits (a leading sign when `signed`, for differences)."""
    return f"{value:{'+' if signed else ''}.{metric_info(name).digits}f}"
