"""Training recipes per backbone, as the official CoIC `train_<Backbone>.py` scripts set them.

`paper` recipes restate the official defaults (the scripts at Schizophreni/CoIC@8c99e73); schedule milestones
are stored as fractions of the run so the same recipe scales to a short CPU run. `tiny` recipes keep
the loss, optimiser, schedule shape and contrastive weight and shrink batch, crop and length so
`zoo train <backbone>` finishes in minutes on two CPU cores. Official epoch milestones were converted
with the official mix (28,900 synthetic pairs): e.g. BRN's [30, 50, 80] epochs at batch 12 of a
260k-iteration run. With SPA added (`mix5+spa`, 57,800 pairs a pass) an epoch is twice as long, so
the epoch-based scripts decay later (and IDT, which runs 110 epochs, runs twice as many iterations):
`recipe(..., with_spa=True)` follows them (`SPA_PAPER`). Each backbone's paper recipe and SPA changes
live on its card (`BackboneSpec.recipe`, `.spa_recipe`); this module holds the `Recipe` type and the
rules every backbone shares, in the catalog so that `zoo info` prints them without importing torch;
`DEPARTURES` lists what coic-zoo does differently from the official scripts for every backbone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..errors import UnknownNameError
from .registry import find_model, list_models


@dataclass(frozen=True)
class Recipe:
    loss: str
    optimizer: str  # "adam" | "adamw"
    lr: float
    batch: int
    crop: int
    iters: int
    stage1_fraction: float  # share of iterations in stage 1 (backbone only)
    schedule: str = "multistep"  # "multistep" | "cosine" | "cyclic_cosine"
    milestones: tuple[float, ...] = ()  # fractions of iters, multistep only
    gamma: float = 0.2
    eta_min: float = 1e-6  # cosine only
    periods: tuple[float, ...] = ()  # cyclic_cosine: period lengths as fractions of iters
    cycle_floors: tuple[float, ...] = ()  # cyclic_cosine: the lr each period decays to
    weight_decay: float = 0.0
    coic_weight_decay: float | None = None  # the CoIC optimiser's, when it differs
    grad_clip: float = 0.0  # 0 = off
    contrast_weight: float = 0.2
    n_neg: int = 4
    temperature: float = 1.0
    # Official-behaviour switches (see `RECIPE_OPTIONS`): each default is what the backbone's
    # official `train_<Backbone>.py` does; the other value is one of our departures.
    rain_pool: bool = True  # rain-aware negative from the last 64 // batch batches (filled from step 0), else this batch only
    per_image_views: bool = False  # one blur sigma / flip per image, else one per batch (torchvision on a batch tensor)
    explode_guard: float = 0.0  # stage 2: clip every gradient to norm 1e-8 when abs(final output) exceeds it; 0 = off
    source: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


RECIPE_OPTIONS: dict[str, str] = {
    "rain_pool": "rain-aware negative drawn from a pool of the last 64 // batch batches, filled from step 0 "
    "(official for RCDNet, DGUNet, DRSformer; BRN and IDT use the current batch only)",
    "per_image_views": "blur sigma and flips drawn per image (official: once per batch, so the n_neg detail "
    "negatives of an image are copies of one)",
    "explode_guard": "stage 2 gradient guard: clip to norm 1e-8 when abs(final output) exceeds this (official: 10 for DGUNet, else off)",
}
"""The recipe switches that choose between official behaviour and one of our departures."""


def paper_recipe(backbone: str) -> Recipe:
    """The recipe on `backbone`'s card; a backbone without one (or an unknown name) trains with BRN's, marked so."""
    card = find_model(backbone)
    if card is None or card.recipe is None:
        fallback = find_model("brn")
        assert fallback is not None and fallback.recipe is not None, "the BRN card carries the fallback recipe"
        return replace(fallback.recipe, source=f"no official recipe for '{backbone}': BRN's")
    return card.recipe


TINY_MILESTONES = (0.8, 0.9)


def tiny_recipe(backbone: str) -> Recipe:
    """The paper recipe shrunk for CPU: batch 8, crop 64, 400 iterations, 30 % of them in stage 1.

    Loss, optimiser, learning rate and schedule type stay. Step decays move to the last fifth of
    the run: the official milestones (e.g. 28 % of 260k iterations) would cut the learning rate of
    a 400-step run after about 110 steps, long before a tiny model has learnt anything (measured:
    BRN tiny on synthmix lost 1-4 dB per domain that way).
    """
    paper = paper_recipe(backbone)
    milestones = TINY_MILESTONES[: len(paper.milestones)] if len(paper.milestones) > 1 else paper.milestones
    return replace(
        paper, batch=8, crop=64, iters=400, stage1_fraction=0.3, milestones=milestones,
        source=f"{paper.source}, scaled for CPU",
    )


class _SpaChanges(Mapping[str, dict[str, Any]]):
    """Backbone name -> the SPA changes on its card (`BackboneSpec.spa_recipe`), for backbones that have any.

    Read when asked, not copied at import, so a card registered later (a plugin, a test) is seen.
    """

    def __getitem__(self, backbone: str) -> dict[str, Any]:
        card = find_model(backbone)
        if card is None or not card.spa_recipe:
            raise KeyError(backbone)
        return card.spa_recipe

    def __iter__(self) -> Iterator[str]:
        return iter([name for name in list_models() if name in self])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, backbone: object) -> bool:
        card = find_model(backbone) if isinstance(backbone, str) else None
        return card is not None and bool(card.spa_recipe)


SPA_PAPER: Mapping[str, dict[str, Any]] = _SpaChanges()
"""The official epoch-based schedules on `mix5+spa` (SPA balanced against the synthetic total doubles an
epoch), read off the cards; DGUNet and DRSformer count iterations, so their recipes do not change."""

DEPARTURES: tuple[str, ...] = (
    "contrastive weight: each official script's default, 50 for RCDNet (tuned to its 0..255 loss) and 0.2 for the "
    "others, in the paper and tiny recipes alike; the official README command passes 0.2 for every backbone "
    "(--set contrast_weight=0.2 gives that)",
    "CUDA kernels: TF32 matmuls/convolutions and cuDNN autotuning are on by default (the official scripts run "
    "deterministic fp32); --deterministic gives the official numerics (IEEE fp32, no autotuning, deterministic kernels)",
    "sampling: each sample is drawn with replacement as a function of (seed, index), so a run resumes and shards "
    "without sampler state; the official DataLoader makes one shuffled pass per epoch",
    "encoder input while training: the whole image resized in float with antialiasing (the official mix_dataset.py "
    "resizes the uint8 image); test time follows the official resize (encoder resize 'antialias')",
)
"""Where coic-zoo differs from the official scripts for every backbone, as `zoo info` and the README state it."""


def recipe(backbone: str, config: str, with_spa: bool = False) -> Recipe:
    """The recipe of `backbone` for `config`; `with_spa` (training data with SPA balanced in, as `mix5+spa`)
    moves the paper recipe's epoch-based decays where the official scripts would put them (`SPA_PAPER`)."""
    if config == "paper":
        return spa_recipe(backbone) if with_spa else paper_recipe(backbone)
    if config == "tiny":
        return tiny_recipe(backbone)
    raise UnknownNameError(f"no recipe for config '{config}'; choose tiny or paper")


def spa_recipe(backbone: str) -> Recipe:
    """The paper recipe for training data with SPA balanced in (`SPA_PAPER`; unchanged for iteration-based scripts)."""
    base = paper_recipe(backbone)
    change = dict(SPA_PAPER.get(backbone, {}))
    if not change:
        return base
    note = change.pop("note")
    return replace(base, notes=(*base.notes, note), **change)
