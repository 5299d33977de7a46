"""`RainDraws`: every value the rain model sampled for one image, so a written dataset can list them.

The procedural benchmark never needs them (an image is a pure function of its seed); a dataset
rendered over the user's own photos does, to say what rain each file carries (`manifest.csv`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RainDraws:
    """What `_compose` drew for one image, in the order it drew them.

    `layers` holds one dict per streak layer (density, length in pixels at the image's size, angle in
    degrees from vertical including the shared angle, width, brightness, and the layer's fixed blur);
    the optional extra copy of the first layer, when drawn, is the last entry and sets `extra_layer`.
    Counts of 0 and None mean the effect was not drawn for this image.
    """

    blend: str = "add"
    rain_type: int | None = None
    base_angle: float = 0.0
    layers: list[dict[str, float]] = field(default_factory=list)
    extra_layer: bool = False
    haze: float | None = None
    airlight: float | None = None
    drops: int = 0
    splashes: int = 0
    blur: float | None = None
    noise: float | None = None
    jpeg_clean: int | None = None
    jpeg_rainy: int | None = None

    def new_layer(self) -> dict[str, float]:
        """An empty record for the next streak layer, appended in drawing order."""
        self.layers.append({})
        return self.layers[-1]
