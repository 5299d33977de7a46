"""`synthmix`: the embedded procedural mixed-rain benchmark, deterministic by seed.

Its domains differ the way the paper's training sets differ:
thin sparse streaks (`light`, like Rain200L), dense multi-layer streaks with haze (`heavy`, like
Rain200H), mixed sizes and blur (`varied`, like Rain800), three densities (`did-low/mid/high`, like
DID-Data), 14 rain types per background (`ddn`, like DDN-Data), and a held-out `real-like` domain
(veiling, drops, splashes, sensor noise) that the default training mix never contains. Sample i of a
domain is a pure function of (seed, domain, split, i): same arguments, same bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from ...errors import UnknownNameError
from .backgrounds import background
from .draws import RainDraws
from .rain import StreakLayer, drops, gaussian_blur, splashes, streaks, veil

SPLITS = {"train": 0, "test": 1}


@dataclass(frozen=True)
class Domain:
    """One synthmix domain: background style, streak layers and how they are composed."""

    name: str
    mimics: str
    style: str
    layers: tuple[StreakLayer, ...]
    blend: str = "add"  # "add" (Rain100/200) or "screen" (Photoshop-made sets)
    extra_layers: float = 0.0  # chance of one more copy of the first layer at another angle
    haze: tuple[float, float] | None = None  # veil strength range
    rain_types: int = 0  # DDN: rain type = index mod rain_types, per background
    jpeg_quality: tuple[int, int] | None = None  # JPEG-compress both sides, as DDN-Data ships them
    real_effects: bool = False
    tags: dict[str, str] = field(default_factory=dict)


def _layer(density, length, angle, width, brightness, blur=0.0) -> StreakLayer:
    return StreakLayer(density, length, angle, width, brightness, blur)


DOMAINS: dict[str, Domain] = {
    d.name: d
    for d in (
        Domain("light", "Rain200L", "photo", (_layer((0.0012, 0.003), (8, 18), (-15, 15), (0.0, 0.4), (0.3, 0.5)),)),
        Domain(
            "heavy",
            "Rain200H",
            "photo",
            tuple(_layer((0.001, 0.0025), (15, 40), (-20, 20), (0.5, 1.2), (0.4, 0.65)) for _ in range(3)),
            extra_layers=0.5,
            haze=(0.1, 0.4),
        ),
        Domain(
            "varied",
            "Rain800",
            "photo",
            (_layer((0.002, 0.005), (20, 45), (-30, 30), (0.3, 0.8), (0.45, 0.7), blur=0.6),),
            blend="screen",
            extra_layers=0.3,
        ),
        Domain("did-low", "DID-Data light", "landscape", (_layer((0.001, 0.0025), (10, 30), (-10, 10), (0.3, 0.9), (0.5, 0.8), 0.5),), "screen"),
        Domain("did-mid", "DID-Data medium", "landscape", (_layer((0.0025, 0.006), (10, 30), (-10, 10), (0.3, 0.9), (0.5, 0.8), 0.5),), "screen"),
        Domain("did-high", "DID-Data heavy", "landscape", (_layer((0.006, 0.015), (10, 30), (-10, 10), (0.3, 0.9), (0.5, 0.8), 0.5),), "screen"),
        Domain("ddn", "DDN-Data", "urban", (), "screen", rain_types=14, jpeg_quality=(80, 95)),
        Domain(
            "real-like",
            "real rain (held out)",
            "photo",
            (
                _layer((0.01, 0.03), (4, 8), (-10, 10), (0.3, 0.3), (0.05, 0.1)),
                _layer((0.0005, 0.0015), (30, 60), (-10, 10), (1.5, 1.5), (0.4, 0.7)),
            ),
            haze=(0.2, 0.6),
            real_effects=True,
        ),
    )
}

TRAIN_DOMAINS = ("light", "heavy", "varied", "did-low", "did-mid", "did-high", "ddn")
HELD_OUT_DOMAINS = ("real-like",)


def _ddn_layer(rain_type: int) -> StreakLayer:
    """DDN's 14 rain types: 7 angles x (short thin faint | long wide bright)."""
    angle = float((-30, -20, -10, 0, 10, 20, 30)[rain_type % 7])
    if rain_type < 7:
        return _layer((0.0025, 0.0025), (14, 14), (angle, angle), (0.3, 0.3), (0.45, 0.45), 0.4)
    return _layer((0.0015, 0.0015), (30, 30), (angle, angle), (0.9, 0.9), (0.6, 0.6), 0.4)


def domain(name: str) -> Domain:
    if name not in DOMAINS:
        raise UnknownNameError(f"unknown synthmix domain '{name}'; choose from: {', '.join(DOMAINS)}")
    return DOMAINS[name]


def _rng(seed: int, domain_name: str, split: str, index: int) -> np.random.Generator:
    domain_id = list(DOMAINS).index(domain_name)
    return np.random.default_rng(np.random.SeedSequence([seed, domain_id, SPLITS[split], index]))


def _compose(
    rng: np.random.Generator,
    dom: Domain,
    clean: np.ndarray,
    layers: tuple[StreakLayer, ...],
    drawn: RainDraws | None = None,
) -> np.ndarray:
    """Rain of `dom` over `clean` (float H x W x 3); `drawn`, when given, records every sampled value.

    Recording reads the values the draws return and never adds a draw, so the image is the same with
    or without it (tests/test_synth_backgrounds.py pins synthmix's bytes).
    """
    h, w, _ = clean.shape
    record = drawn.new_layer if drawn is not None else (lambda: None)
    base_angle = rng.uniform(-25, 25) if len(layers) > 1 and dom.haze else 0.0
    rain = np.zeros((h, w), np.float32)
    for layer in layers:
        rain += streaks(rng, h, w, layer, base_angle, record())
    extra = bool(layers) and rng.random() < dom.extra_layers
    if extra:
        rain += streaks(rng, h, w, layers[0], base_angle + rng.uniform(-30, 30), record())
    rain3 = rain[..., None]
    if dom.blend == "screen":
        rainy = 1.0 - (1.0 - clean) * (1.0 - np.clip(rain3, 0, 1))
    else:
        rainy = clean + rain3
    haze: dict[str, float] = {}
    airlight = None
    if dom.haze is not None:
        t = veil(rng, h, w, dom.haze, haze)[..., None]
        airlight = rng.uniform(0.6, 0.85)
        rainy = t * rainy + (1 - t) * airlight
    drops_count = splashes_count = 0
    blur = noise = None
    if dom.real_effects:
        if rng.random() < 0.3:
            drops_count = int(rng.integers(3, 10))
            seen, alpha = drops(rng, clean, drops_count)
            rainy = (1 - alpha[..., None]) * rainy + alpha[..., None] * seen
        if rng.random() < 0.3:
            splashes_count = int(rng.integers(20, 80))
            rainy = rainy + splashes(rng, h, w, splashes_count, 0.6)[..., None]
        blur = rng.uniform(0.3, 0.8)
        rainy = gaussian_blur(rainy, blur)
        noise = rng.uniform(0.005, 0.015)
        rainy = rainy + rng.normal(0.0, noise, rainy.shape).astype(np.float32)
    if drawn is not None:
        drawn.blend, drawn.base_angle, drawn.extra_layer = dom.blend, base_angle, extra
        drawn.haze, drawn.airlight = haze.get("haze"), airlight
        drawn.drops, drawn.splashes, drawn.blur, drawn.noise = drops_count, splashes_count, blur, noise
    return rainy


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip through JPEG at `quality` (Pillow's encoder is deterministic)."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return np.array(Image.open(buffer).convert("RGB"))


def synth_pair(
    domain_name: str, index: int, seed: int = 0, split: str = "train", size: tuple[int, int] = (128, 128)
) -> tuple[np.ndarray, np.ndarray]:
    """(rainy, clean) uint8 H x W x 3 RGB for sample `index` of `domain_name`; deterministic in all arguments."""
    dom = domain(domain_name)
    if split not in SPLITS:
        raise UnknownNameError(f"unknown split '{split}'; choose from: {', '.join(SPLITS)}")
    h, w = size
    if dom.rain_types:
        # DDN: the same background (one clean file) carries each of the 14 rain types.
        background_rng = _rng(seed, domain_name, split, index // dom.rain_types)
        clean = background(background_rng, h, w, dom.style)
        layers: tuple[StreakLayer, ...] = (_ddn_layer(index % dom.rain_types),)
        rng = _rng(seed, domain_name, split, index)
    else:
        rng = background_rng = _rng(seed, domain_name, split, index)
        clean = background(rng, h, w, dom.style)
        layers = dom.layers
    rainy8, clean8 = _to_uint8(_compose(rng, dom, clean, layers)), _to_uint8(clean)
    if dom.jpeg_quality is not None:
        low, high = dom.jpeg_quality
        clean8 = _jpeg(clean8, int(background_rng.integers(low, high + 1)))
        rainy8 = _jpeg(rainy8, int(rng.integers(low, high + 1)))
    return rainy8, clean8


def rain_over(clean: np.ndarray, domain_name: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, RainDraws]:
    """(rainy, clean, draws): `domain_name`'s rain over a given clean image (float H x W x 3 in [0, 1]).

    The same rain model as `synth_pair`, over a photo instead of a procedural background, with every
    sampled value returned so the caller can list it. DDN's rain type (one of 14) is drawn here, as a
    photo has no sample index to take it from; JPEG qualities are drawn from the same `rng`.
    """
    dom = domain(domain_name)
    drawn = RainDraws(blend=dom.blend)
    layers = dom.layers
    if dom.rain_types:
        drawn.rain_type = int(rng.integers(dom.rain_types))
        layers = (_ddn_layer(drawn.rain_type),)
    rainy8, clean8 = _to_uint8(_compose(rng, dom, clean, layers, drawn)), _to_uint8(clean)
    if dom.jpeg_quality is not None:
        low, high = dom.jpeg_quality
        drawn.jpeg_clean, drawn.jpeg_rainy = int(rng.integers(low, high + 1)), int(rng.integers(low, high + 1))
        clean8, rainy8 = _jpeg(clean8, drawn.jpeg_clean), _jpeg(rainy8, drawn.jpeg_rainy)
    return rainy8, clean8, drawn


class SynthDomain:
    """A fixed-size, indexable synthmix domain (a Sequence of (rainy, clean) uint8 pairs), generated on demand."""

    def __init__(self, name: str, length: int, seed: int = 0, split: str = "train", size: int | tuple[int, int] = 128) -> None:
        domain(name)
        self.name = name
        self.length = length
        self.seed = seed
        self.split = split
        self.size = (size, size) if isinstance(size, int) else tuple(size)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= index < self.length:
            raise IndexError(index)
        return synth_pair(self.name, index, self.seed, self.split, self.size)  # type: ignore[arg-type]

