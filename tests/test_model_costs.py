"""The cost columns: parameters, MACs, CPU time and peak memory per model, baseline and CoIC side by side."""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn

from zoo.evaluation.complexity import count_macs, parameter_counts, peak_forward_bytes
from zoo.models.build import build_model
from zoo.results.costs import model_costs, render_model_costs


class _Sixteen(nn.Module):
    """Holds the input, a 16x copy and a 16x product at once: 33 input-sizes at the peak."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = x.repeat(1, 1, 4, 4)
        b = a * 2
        return b.sum()


def test_peak_forward_memory_counts_what_is_held_at_once() -> None:
    image_bytes = 3 * 64 * 64 * 4
    peak = peak_forward_bytes(_Sixteen(), size=64)
    assert image_bytes * 33 <= peak <= image_bytes * 33 + 1024  # plus the few bytes of the scalar sum


def test_model_costs_side_by_side() -> None:
    table = pd.DataFrame({"backbone": ["brn", "brn"], "config": ["tiny", "tiny"]})
    costs = model_costs(table=table, size=32, repeats=1)
    row = costs.iloc[0]
    for method in ("baseline", "coic"):
        model = build_model("brn", coic=method == "coic", config="tiny").eval()
        assert row[f"params_{method}"] == parameter_counts(model)["params"]
        assert row[f"macs_{method}"] == count_macs(model, 32)
        assert row[f"cpu_ms_{method}"] > 0 and row[f"peak_mib_{method}"] > 0
    assert row["params_coic"] > row["params_baseline"] and len(costs) == 1
    md = render_model_costs(costs, "md")
    assert "| backbone | config | parameters: baseline | parameters: CoIC | GMACs: baseline | GMACs: CoIC |" in md
    assert f"| brn | tiny | {row['params_baseline']:,} | {row['params_coic']:,} |" in md
    assert "3 x 32 x 32" in md
    assert list(pd.read_csv(pd.io.common.StringIO(render_model_costs(costs, "csv"))).columns)[:2] == ["backbone", "config"]
