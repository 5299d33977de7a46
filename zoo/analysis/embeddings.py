"""How datasets relate in CoIC's embedding space (the official `Analysis/umap_vis.py`, as a function).

z is computed as at test time: the whole rainy image resized to the encoder's input, through the
momentum (key) encoder (`CoICModel.embed` in eval mode). Besides the rainy images of each dataset
(or synthmix domain), the clean images are embedded too: detail-aware training should set them apart.

Numbers, all on unit-norm z with cosine similarity:
- nearest-centroid accuracy per dataset, leave-one-out (an image's own z is removed from its
  dataset's centroid, so a dataset of near-random points does not classify itself by construction);
- silhouette per dataset (scikit-learn, cosine distance);
- the dataset-relationship matrix: cosine similarity between dataset centroids.
The 2-D picture is UMAP with the official settings (cosine metric, 50 neighbours, min_dist 0; the
official script projects onto a sphere, here onto the plane) or t-SNE (`method="tsne"`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .._progress import NullProgress, ProgressLike
from ..coic.encoder import build_encoder
from ..coic.model import CoICModel
from ..data.mixing import PairSource, to_tensor
from ..errors import ZooError
from ..models.checkpoint import read_config
from .figures import NEUTRAL, SEQUENTIAL, Result, colour, marker, pyplot, save_figure, title, write_tables
from .source import AnalysedModel

PROJECTIONS = ("umap", "tsne")
CLEAN = "clean"


@dataclass
class Embedded:
    """z of every embedded image with its group (dataset name, or "clean") and index in that dataset."""

    z: np.ndarray  # N x dim_z, unit norm
    groups: list[str]
    indices: list[int]


@torch.inference_mode()
def embed_images(model: CoICModel, images: list[np.ndarray], batch: int = 32) -> np.ndarray:
    """z (N x dim_z) of uint8 H x W x 3 images of any sizes, from the key encoder as at test time, on the
    model's device (each image goes there whole, as `restore` sends it, and z comes back to the CPU)."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(images), batch):
        inputs = torch.cat([model.encoder_input(to_tensor(image).unsqueeze(0).to(device)) for image in images[start : start + batch]])
        out.append(model.embed(inputs).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, model.dim_z), np.float32)


def collect(model: CoICModel, sets: dict[str, PairSource], clean: bool = True, progress: ProgressLike | None = None) -> Embedded:
    """Embed each set's rainy images and, with `clean`, as many clean images taken round-robin from the sets."""
    z, groups, indices = [], [], []
    bar = progress if progress is not None else NullProgress()
    task = bar.add_task("embedding", total=len(sets) + int(clean and bool(sets)))
    try:
        for name, pairs in sets.items():
            z.append(embed_images(model, [pairs[i][0] for i in range(len(pairs))]))
            groups += [name] * len(pairs)
            indices += list(range(len(pairs)))
            bar.update(task, advance=1)
        if clean and sets:
            names = list(sets)
            count = max(len(p) for p in sets.values())
            picks = [(names[k % len(names)], k // len(names)) for k in range(count * len(names))]
            picks = [(n, i) for n, i in picks if i < len(sets[n])][:count]
            z.append(embed_images(model, [sets[n][i][1] for n, i in picks]))
            groups += [CLEAN] * len(picks)
            indices += list(range(len(picks)))
            bar.update(task, advance=1)
    finally:
        bar.remove_task(task)
    return Embedded(np.concatenate(z), groups, indices)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def nearest_centroid(z: np.ndarray, groups: list[str]) -> np.ndarray:
    """Leave-one-out nearest-centroid prediction (cosine) for each row; returns predicted group names."""
    names = sorted(set(groups), key=groups.index)
    labels = np.array([names.index(g) for g in groups])
    sums = np.stack([z[labels == k].sum(axis=0) for k in range(len(names))])
    counts = np.bincount(labels, minlength=len(names)).astype(np.float64)
    scores = _unit(z) @ _unit(sums).T  # N x K
    own = sums[labels] - z  # each row's centroid without itself
    own_score = np.einsum("nd,nd->n", _unit(z), _unit(own))
    own_score[counts[labels] < 2] = -np.inf  # a group of one has no centroid left to match
    scores[np.arange(len(z)), labels] = own_score
    return np.array(names)[scores.argmax(axis=1)]


def separability(z: np.ndarray, groups: list[str]) -> pd.DataFrame:
    """One row per group: n, leave-one-out nearest-centroid accuracy, silhouette, chance; then an "all" row."""
    from sklearn.metrics import silhouette_samples

    names = sorted(set(groups), key=groups.index)
    if len(names) < 2:
        raise ZooError("separability needs at least two datasets; pass --data with more than one set")
    predicted = nearest_centroid(z, groups)
    truth = np.array(groups)
    silhouette = silhouette_samples(z, truth, metric="cosine")
    rows = [
        {
            "group": name,
            "n": int((truth == name).sum()),
            "nearest_centroid_accuracy": float((predicted[truth == name] == name).mean()),
            "silhouette": float(silhouette[truth == name].mean()),
            "chance": 1.0 / len(names),
        }
        for name in names
    ]
    rows.append(
        {
            "group": "all",
            "n": len(truth),
            "nearest_centroid_accuracy": float((predicted == truth).mean()),
            "silhouette": float(silhouette.mean()),
            "chance": float(max((truth == n).mean() for n in names)),  # always guessing the largest group
        }
    )
    return pd.DataFrame(rows)


def centroid_similarity(z: np.ndarray, groups: list[str]) -> pd.DataFrame:
    """Cosine similarity between group centroids, one row per ordered pair (the relationship matrix, long form).

    `cosine_centred` is the same after subtracting the mean z of all images: when every z shares one
    large component (as a briefly trained encoder's do), raw cosines all sit near 1 and the centred
    ones show how the datasets differ around it.
    """
    names = sorted(set(groups), key=groups.index)
    truth = np.array(groups)
    means = np.stack([z[truth == name].mean(axis=0) for name in names])
    raw = _unit(means) @ _unit(means).T
    centred = _unit(means - z.mean(axis=0)) @ _unit(means - z.mean(axis=0)).T
    return pd.DataFrame(
        [{"group_a": a, "group_b": b, "cosine": float(raw[i, j]), "cosine_centred": float(centred[i, j])}
         for i, a in enumerate(names) for j, b in enumerate(names)]
    )


def project(z: np.ndarray, method: str = "umap", seed: int = 0) -> np.ndarray:
    """2-D coordinates of z: UMAP (official settings, neighbours capped by the sample count) or t-SNE."""
    if method not in PROJECTIONS:
        raise ZooError(f"--method '{method}' is unknown; use one of: {', '.join(PROJECTIONS)}")
    n = len(z)
    if n < 4:
        raise ZooError(f"{n} embedded images are too few to project; raise --per-set")
    if method == "umap":
        import warnings

        import umap  # imports numba: slow, so only here

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*n_jobs value.*")  # a seed makes UMAP single-threaded, as wanted
            reducer = umap.UMAP(n_neighbors=min(50, n - 1), min_dist=0.0, metric="cosine", random_state=seed, init="spectral")
            return np.asarray(reducer.fit_transform(z), dtype=np.float64)
    from sklearn.manifold import TSNE

    # Exact t-SNE: for the few hundred points analysed here it is faster than Barnes-Hut and has no approximation.
    tsne = TSNE(n_components=2, perplexity=min(30.0, (n - 1) / 3), metric="cosine", init="pca", random_state=seed,
                method="exact" if n <= 1000 else "barnes_hut")
    return np.asarray(tsne.fit_transform(z), dtype=np.float64)


def untrained_copy(model: CoICModel, source: AnalysedModel, seed: int = 0) -> CoICModel:
    """The model with a freshly initialised key encoder of the same architecture: the control for the numbers."""
    settings = read_config(source.path).get("encoder") or {}
    torch.manual_seed(seed)
    fresh, _ = build_encoder(source.config, width=settings.get("width"), dim_z=settings.get("dim_z"))
    control = copy.deepcopy(model)
    control.key_encoder.encoder.load_state_dict(fresh.state_dict())
    return control.eval()


def analyze_embeddings(
    source: AnalysedModel,
    out_dir: Path,
    data: str | None = None,
    root: Path | None = None,
    per_dataset: int | None = None,
    method: str = "umap",
    clean: bool = True,
    untrained: bool = False,
    seed: int = 0,
    progress: ProgressLike | None = None,
) -> Result:
    """Embed each dataset (and clean images), measure separability, project to 2-D; write PNG + CSVs."""
    if method not in PROJECTIONS:
        raise ZooError(f"--method '{method}' is unknown; use one of: {', '.join(PROJECTIONS)}")
    model = source.require_coic("embeddings")
    if untrained:
        model = untrained_copy(model, source, seed)
    data = data or source.data
    embedded = collect(model, source.sets(data, root, per_dataset), clean, progress)
    xy = project(embedded.z, method, seed)
    points = pd.DataFrame({"group": embedded.groups, "index": embedded.indices, "x": xy[:, 0], "y": xy[:, 1]})
    points = pd.concat([points, pd.DataFrame(embedded.z, columns=[f"z{i}" for i in range(embedded.z.shape[1])])], axis=1)
    tables = {
        "main": points,
        "separability": separability(embedded.z, embedded.groups),
        "similarity": centroid_similarity(embedded.z, embedded.groups),
    }
    out_dir = Path(out_dir)
    stem = "embeddings-untrained" if untrained else "embeddings"
    files = write_tables(tables, out_dir, stem)
    encoder = "untrained key encoder (control)" if untrained else "key encoder"
    figure = _figure(tables, method, title(f"z from the {encoder}, {method.upper()}", source.name, data))
    files.append(save_figure(figure, out_dir / f"{stem}.png"))
    sep = tables["separability"]
    overall = sep[sep["group"] == "all"].iloc[0]
    summary = {key: float(overall[key]) for key in ("nearest_centroid_accuracy", "silhouette", "chance")}
    return Result(tables, files, summary)


def _figure(tables: dict[str, pd.DataFrame], method: str, heading: str):
    plt = pyplot()
    points, similarity, sep = tables["main"], tables["similarity"], tables["separability"]
    names = list(dict.fromkeys(points["group"]))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.5, 5.0), gridspec_kw={"width_ratios": [1.15, 1]})
    for i, name in enumerate(names):
        rows = points[points["group"] == name]
        accuracy = float(sep.loc[sep["group"] == name, "nearest_centroid_accuracy"].iloc[0])
        style = {"color": NEUTRAL, "marker": "x"} if name == CLEAN else {"color": colour(i), "marker": marker(i)}
        left.scatter(rows["x"], rows["y"], s=16, alpha=0.85, label=f"{name} ({accuracy:.0%})", linewidths=0.8, **style)
    left.set_xlabel(f"{method.upper()} 1")
    left.set_ylabel(f"{method.upper()} 2")
    left.legend(title="dataset (nearest-centroid acc.)", fontsize=7, title_fontsize=7, loc="best", markerscale=1.2)
    matrix = similarity.pivot(index="group_a", columns="group_b", values="cosine").reindex(index=names, columns=names)
    low = float(matrix.min().min())
    low = low if low < 1.0 - 1e-6 else 0.0  # the colour range follows the data, so near-1 values still differ
    digits = 3 if low > 0.9 else 2
    image = right.imshow(matrix.to_numpy(), cmap=SEQUENTIAL, vmin=low, vmax=1.0)
    right.set_xticks(range(len(names)), names, rotation=45, ha="right")
    right.set_yticks(range(len(names)), names)
    right.grid(False)
    for a in range(len(names)):
        for b in range(len(names)):
            value = float(matrix.iat[a, b])
            dark = value < low + 0.6 * (1.0 - low)
            right.text(b, a, f"{value:.{digits}f}", ha="center", va="center", fontsize=6, color="white" if dark else "black")
    right.set_title("cosine similarity of dataset centroids")
    fig.colorbar(image, ax=right, fraction=0.046, pad=0.04)
    overall = sep[sep["group"] == "all"].iloc[0]
    fig.suptitle(f"{heading}\nnearest-centroid accuracy {overall['nearest_centroid_accuracy']:.1%} "
                 f"(chance {overall['chance']:.1%}), silhouette {overall['silhouette']:.2f}", fontsize=9)
    return fig
