"""Tiled inference holds memory flat: a 2048x2048 image in 256-pixel tiles vs one 256x256 tile.

Each case runs in a fresh process and reports its peak resident memory above the moment just
before `restore` (input image and model already there, libraries and thread pools initialised by
one 64x64 restoration). The warm-up must stay smaller than a tile: warmed up at the tile size, the
allocator already holds a tile's activations, the single tile then "costs" nothing and the ratio
measures allocator noise (that first version of this benchmark reported 6.4 MiB for a tile). The tiled case must also hold its output
and the tile-weight sum (the result itself: 2048 x 2048 x 4 floats); the working memory beyond that
is what must stay at the single-tile level. Target: tiled working memory <= 1.5x the single tile's.
Run: `pytest benchmarks/test_tiling_memory.py -s`.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, resource, torch, zoo
from zoo.evaluation.inference import restore
torch.set_num_threads(2)
model = zoo.create_model({name!r}, coic={coic}).eval()
image = torch.rand(1, 3, {size}, {size})
restore(model, torch.rand(1, 3, 64, 64))  # libraries and thread pools, not a tile's activations
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = restore(model, image, tile={tile}, overlap=32)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"peak_kib": peak - before, "output_kib": (out.numel() + out[0, 0].numel()) * 4 // 1024}}))
"""


def _measure(name: str, coic: bool, size: int, tile: int | None) -> dict[str, int]:
    code = PROBE.format(name=name, coic=coic, size=size, tile=tile)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=900)
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("coic", [False, True], ids=["baseline", "coic"])
def test_tiled_memory_is_flat(benchmark, coic: bool) -> None:
    one = _measure("brn", coic, 256, None)
    tiled = benchmark.pedantic(_measure, args=("brn", coic, 2048, 256), rounds=1, iterations=1)
    working = max(tiled["peak_kib"] - tiled["output_kib"], 0)
    benchmark.group = "tiled inference memory, tiny BRN"
    benchmark.extra_info.update(
        single_tile_peak_mib=round(one["peak_kib"] / 1024, 1),
        tiled_2048_peak_mib=round(tiled["peak_kib"] / 1024, 1),
        tiled_2048_working_mib=round(working / 1024, 1),
        working_over_single_tile=round(working / max(one["peak_kib"], 1), 2),
    )
    print(benchmark.extra_info)
