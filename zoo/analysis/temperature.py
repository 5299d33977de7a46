"""How a CoIC model behaves per input: the modulated kernels' temperature (official `temperature_analysis.py`).

A modulated convolution scales its kernel per image by softmax_taps(sigmoid(w1[o] + w2[i]) * w3) * k^2
(see `zoo.coic.modulation`). sigmoid(w1 + w2) multiplies the tap logits w3, so it acts as an inverse
softmax temperature; the official script defines, per layer and image,

    T[i, o] = 1 / sigmoid(w1[o] + w2[i]) / (mean(w3 - min(w3)) + 1e-8)

(the spread of the tap logits w3 sharpens the softmax as a lower temperature would) and reports the
mean of log T over the (C_in, C_out) grid, then its mean and standard deviation over test images.
The official script ran one image at a time, so min and mean of w3 are per image here too. A layer
that runs several times per forward pass (BRN's recurrent stages) contributes the mean over its calls.

z is the test-time one (momentum encoder, `CoICModel.embed` in eval mode); the official script fed
its query encoder's z instead. Transformer context points have no kernel and no temperature.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._progress import NullProgress, ProgressLike
from ..coic.model import CoICModel
from ..coic.modulation import ModulatedConv2d, ModulatedConvTranspose2d
from ..data.mixing import to_tensor
from ..errors import ZooError
from ..evaluation.evaluate import same_size_batches
from ..evaluation.inference import restore
from .figures import Result, colour, marker, pyplot, save_figure, title, write_tables
from .source import AnalysedModel

EPS = 1e-8  # the official script's


def split_modulator_output(layer: nn.Module, a: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(w1, w2, w3) of a modulated layer's MLP output `a` (B x ...), as `zoo.coic.modulation` splits it."""
    if isinstance(layer, ModulatedConvTranspose2d):
        n_first, n_second = layer.in_channels, layer.out_channels // layer.groups
    elif isinstance(layer, ModulatedConv2d):
        n_first, n_second = layer.out_channels, layer.in_channels // layer.groups
    else:
        raise TypeError(f"{type(layer).__name__} has no modulated kernel")
    return a[:, :n_first], a[:, n_first : n_first + n_second], a[:, n_first + n_second :]


def log_temperature(w1: Tensor, w2: Tensor, w3: Tensor) -> Tensor:
    """Per image (B), the mean over the (C_in, C_out) grid of log T, T the official temperature."""
    log_att = F.logsigmoid(w2.double().unsqueeze(-1) + w1.double().unsqueeze(1))  # B x n_second x n_first
    w3 = w3.double()
    spread = (w3 - w3.min(dim=1, keepdim=True).values).mean(dim=1)  # B
    return -log_att.mean(dim=(1, 2)) - torch.log(spread + EPS)


def temperature_layers(model: CoICModel) -> list[tuple[str, nn.Module]]:
    """(name, layer) of every modulated convolution, in registration order."""
    return [(name, m) for name, m in model.backbone.named_modules() if isinstance(m, (ModulatedConv2d, ModulatedConvTranspose2d))]


class TemperatureProbe:
    """Forward pre-hooks that record each modulated layer's log temperature per image while the model runs."""

    def __init__(self, layers: list[tuple[str, nn.Module]]) -> None:
        self.layers = layers
        self.calls: dict[str, list[Tensor]] = defaultdict(list)
        self.handles = [layer.register_forward_pre_hook(self._hook(name)) for name, layer in layers]

    def _hook(self, name: str):
        def hook(layer: nn.Module, inputs: tuple[Tensor, ...]) -> None:
            z = layer._active_z()  # type: ignore[operator]
            if z is not None:
                self.calls[name].append(log_temperature(*split_modulator_output(layer, layer._mlp(inputs[0], z))))  # type: ignore[operator]

        return hook

    def take(self) -> dict[str, np.ndarray]:
        """Per layer, each image's log temperature averaged over the layer's calls; then reset."""
        out = {name: torch.stack(calls).mean(dim=0).float().cpu().numpy() for name, calls in self.calls.items()}
        self.calls.clear()
        return out

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()


def measure(
    model: CoICModel, sets: dict[str, Sequence[tuple[np.ndarray, np.ndarray]]], batch: int = 8, progress: ProgressLike | None = None
) -> pd.DataFrame:
    """One row per (dataset, image, layer): the official statistic, mean log temperature."""
    layers = temperature_layers(model)
    if not layers:
        raise ZooError("this model has no modulated convolutions (a Transformer's context points have no temperature)")
    order = {name: i for i, (name, _) in enumerate(layers)}
    probe = TemperatureProbe(layers)
    rows = []
    bar = progress if progress is not None else NullProgress()
    task = bar.add_task("measuring temperature", total=sum(len(pairs) for pairs in sets.values()))
    try:
        model.eval()
        for dataset, pairs in sets.items():
            for group in same_size_batches(pairs, batch):
                restore(model, torch.stack([to_tensor(pairs[i][0]) for i in group]))
                for name, values in probe.take().items():
                    rows += [{"dataset": dataset, "image": i, "layer_index": order[name], "layer": name, "log_temperature": float(v)}
                             for i, v in zip(group, values)]
                bar.update(task, advance=len(group))
    finally:
        probe.close()
        bar.remove_task(task)
    frame = pd.DataFrame(rows)
    frame["dataset"] = pd.Categorical(frame["dataset"], categories=list(sets), ordered=True)  # keep the data's order
    return frame.sort_values(["dataset", "image", "layer_index"], kind="stable").astype({"dataset": str}).reset_index(drop=True)


def summarise(per_image: pd.DataFrame) -> pd.DataFrame:
    """Mean, std, quartiles over images, per dataset and layer (what the official script prints, and more)."""
    grouped = per_image.groupby(["dataset", "layer_index", "layer"], sort=False)["log_temperature"]
    summary = grouped.agg(n="count", mean="mean", std="std", q25=lambda s: s.quantile(0.25), median="median",
                          q75=lambda s: s.quantile(0.75)).reset_index()
    return summary.fillna({"std": 0.0})


def analyze_temperature(
    source: AnalysedModel, out_dir: Path, data: str | None = None, root: Path | None = None, per_dataset: int | None = None,
    progress: ProgressLike | None = None,
) -> Result:
    """Per dataset and modulated layer, the distribution of the official temperature statistic; PNG + CSVs."""
    model = source.require_coic("temperature")
    data = data or source.data
    sets = source.sets(data, root, per_dataset)
    per_image = measure(model, sets, progress=progress)
    tables = {"main": per_image, "summary": summarise(per_image)}
    out_dir = Path(out_dir)
    files = write_tables(tables, out_dir, "temperature")
    files.append(save_figure(_figure(tables["summary"], title("modulation temperature per layer (official statistic)", source.name, data)),
                             out_dir / "temperature.png"))
    by_dataset = per_image.groupby("dataset", sort=False)["log_temperature"].mean()
    summary = {f"mean_log_temperature[{name}]": float(v) for name, v in by_dataset.items()}
    return Result(tables, files, summary)


def _figure(summary: pd.DataFrame, heading: str):
    plt = pyplot()
    layers = summary.drop_duplicates("layer_index").sort_values("layer_index")
    fig, ax = plt.subplots(figsize=(max(6.5, 0.28 * len(layers) + 3.5), 4.2))
    for i, (dataset, rows) in enumerate(summary.groupby("dataset", sort=False)):
        rows = rows.sort_values("layer_index")
        ax.plot(rows["layer_index"], rows["mean"], color=colour(i), marker=marker(i), markersize=3.5, linewidth=1.2, label=dataset)
        ax.fill_between(rows["layer_index"], rows["mean"] - rows["std"], rows["mean"] + rows["std"], color=colour(i), alpha=0.15, linewidth=0)
    ax.set_xticks(layers["layer_index"], layers["layer"], rotation=60, ha="right", fontsize=6)
    ax.set_xlabel("modulated layer")
    ax.set_ylabel("mean log temperature (± std over images)")
    ax.set_title(heading)
    ax.legend(fontsize=7, ncol=2)
    return fig
