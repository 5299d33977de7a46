"""Mixed-dataset training streams: which source each sample comes from, its patch and its flips.

Sample k of a run's stream is a pure function of (seed, k): the source is drawn by weight, then an
image of it, a crop position and a flip. The trainer asks for samples `step * global_batch + j`, and
DDP rank r takes its slice of each global batch, so a resumed run or a run on more processes sees
exactly the same samples (no sampler state to save). Mixing follows CoIC: synthetic sets are
concatenated (each pair equally likely); a real set (SPA) is balanced against the synthetic total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset, Sampler

from ..errors import DatasetError, ZooError
from .layouts import open_dataset
from .spec import REAL_WORLD, dataset_root, parse_data
from .synth import HELD_OUT_DOMAINS, TRAIN_DOMAINS, SynthDomain

PairSource = Sequence[tuple[np.ndarray, np.ndarray]]

@dataclass(frozen=True)
class Source:
    """A named set of full-size (rainy, clean) uint8 pairs and its sampling weight."""

    name: str
    pairs: PairSource
    weight: float


def to_tensor(image: np.ndarray) -> Tensor:
    """uint8 H x W x 3 -> float32 3 x H x W in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255.0)


def resize_square(image: Tensor, size: int) -> Tensor:
    """The whole image resized to size x size, as the encoder sees it (bilinear, antialiased)."""
    return F.interpolate(image.unsqueeze(0), size=(size, size), mode="bilinear", align_corners=False, antialias=True)[0]


class MixedPatches(Dataset):
    """Sample k -> dict(rainy, clean: 3 x P x P patches; rainy_full, clean_full: whole images resized to P; source)."""

    def __init__(self, sources: list[Source], crop: int, seed: int = 0, contrastive: bool = True) -> None:
        if not sources:
            raise ZooError("no training data: pass --data synthmix or dataset names with --root")
        if crop < 8:
            raise ZooError(f"--crop {crop} is too small; use at least 8 pixels")
        weights = np.array([s.weight for s in sources], dtype=np.float64)
        if (weights < 0).any() or weights.sum() <= 0:
            raise ZooError(f"source weights must be non-negative with a positive sum, got {weights.tolist()}")
        self.sources = sources
        self.probabilities = weights / weights.sum()
        self.crop = crop
        self.seed = seed
        self.contrastive = contrastive

    def __len__(self) -> int:
        return 2**62  # an endless stream; the trainer decides how many samples it takes

    def check_crop(self) -> None:
        """Fail before training starts when the patch is larger than a source's first image."""
        for source in self.sources:
            rainy, _ = source.pairs[0]
            h, w = rainy.shape[:2]
            if self.crop > min(h, w):
                raise ZooError(
                    f"--crop {self.crop} is larger than the images of '{source.name}' ({h}x{w}); "
                    f"use --crop {min(h, w)} or smaller"
                )

    def locate(self, k: int) -> tuple[int, int, np.random.Generator]:
        """(source index, image index, generator for the crop and flips) of sample k."""
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 7, k]))
        source = int(rng.choice(len(self.sources), p=self.probabilities))
        return source, int(rng.integers(len(self.sources[source].pairs))), rng

    def __getitem__(self, k: int) -> dict[str, Tensor]:
        source_index, image_index, rng = self.locate(k)
        source = self.sources[source_index]
        rainy_np, clean_np = source.pairs[image_index]
        h, w = rainy_np.shape[:2]
        if self.crop > min(h, w):
            raise DatasetError(
                f"{source.name}[{image_index}] is {h}x{w}, smaller than --crop {self.crop}; lower --crop"
            )
        rainy, clean = to_tensor(rainy_np), to_tensor(clean_np)
        top = int(rng.integers(h - self.crop + 1))
        left = int(rng.integers(w - self.crop + 1))
        flip = int(rng.integers(4))  # CoIC: 1 vertical, 2 horizontal, else none
        sample = {"source": torch.tensor(source_index)}
        for name, image in (("rainy", rainy), ("clean", clean)):
            patch = image[:, top : top + self.crop, left : left + self.crop]
            if flip == 1:
                patch = patch.flip(-2)
            elif flip == 2:
                patch = patch.flip(-1)
            sample[name] = patch.contiguous()
            if self.contrastive:
                sample[f"{name}_full"] = resize_square(image, self.crop)
        return sample


class StepSampler(Sampler[int]):
    """Indices of the stream for one process: global batch `step` holds samples step*G .. step*G+G-1."""

    def __init__(self, batch_per_rank: int, start_step: int, steps: int, rank: int = 0, world: int = 1) -> None:
        self.batch = batch_per_rank
        self.start = start_step
        self.steps = steps
        self.rank = rank
        self.world = world

    def __len__(self) -> int:
        return max(self.steps - self.start, 0) * self.batch

    def __iter__(self):
        global_batch = self.batch * self.world
        for step in range(self.start, self.steps):
            first = step * global_batch + self.rank * self.batch
            yield from range(first, first + self.batch)


def training_sources(
    spec: str,
    root: Path | None = None,
    seed: int = 0,
    synth_count: int = 1000,
    synth_size: int = 96,
    overrides: dict[str, Path] | None = None,
    allow_partial: bool = False,
) -> list[Source]:
    """The weighted training sources that `--data spec` names."""
    sources: list[Source] = []
    weighted: set[str] = set()  # sources given an explicit weight keep it, even a real-world set
    for name, weight in parse_data(spec):
        if weight is not None:
            weighted.add(name)
        if name == "synthmix":
            for domain in TRAIN_DOMAINS:
                pairs = SynthDomain(domain, synth_count, seed, "train", synth_size)
                sources.append(Source(f"synthmix/{domain}", pairs, 1.0 if weight is None else weight))
            continue
        pairs = open_dataset(name, dataset_root(root, name, overrides), "train", allow_partial=allow_partial)
        sources.append(Source(name, pairs, float(len(pairs)) if weight is None else weight * len(pairs)))
    synthetic = sum(s.weight for s in sources if s.name not in REAL_WORLD)
    # CoIC's add_real_world: as many real pairs as synthetic ones, so about half of each batch is real.
    return [
        Source(s.name, s.pairs, synthetic if s.name in REAL_WORLD and synthetic > 0 and s.name not in weighted else s.weight)
        for s in sources
    ]


def evaluation_sets(
    spec: str,
    root: Path | None = None,
    seed: int = 0,
    synth_count: int = 16,
    synth_size: int = 128,
    overrides: dict[str, Path] | None = None,
    allow_partial: bool = False,
) -> dict[str, PairSource]:
    """Test sets for `--data spec`: every synthmix domain (held-out ones too), or each dataset's test split.

    A synthmix domain named like a real set of the same spec (`synthmix,ddn`: the synthetic ddn domain and
    DDN-Data) is keyed `synthmix/<domain>`, as its training source is, so neither set replaces the other;
    the real set keeps its name, the one the field's reported numbers use."""
    names = [name for name, _ in parse_data(spec)]
    sets: dict[str, PairSource] = {}
    for name in names:
        if name == "synthmix":
            for domain in (*TRAIN_DOMAINS, *HELD_OUT_DOMAINS):
                key = f"synthmix/{domain}" if domain in names else domain
                sets[key] = SynthDomain(domain, synth_count, seed, "test", synth_size)
            continue
        sets[name] = open_dataset(name, dataset_root(root, name, overrides), "test", allow_partial=allow_partial)
    return sets
