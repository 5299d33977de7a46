"""`CoICModel`: a coicified backbone plus the encoder that supplies its embedding z.

The model computes z from the rainy image (resized to the encoder's input size), sets it on the
backbone's modulation context and runs the backbone. While training, z comes from the query encoder
so the restoration loss reaches it; in eval mode it comes from the momentum (key) encoder, as the
official `test_model.py` does. With `modulation` off the model is exactly the plain backbone.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from .encoder import MomentumEncoder, RainDetailEncoder
from .modulation import Layout, coicify, context_of

ENCODER_RESIZES = ("antialias", "plain")
"""How the whole image is resized to the encoder's input. The official `test_model.py` uses
`transforms.Resize((128, 128))` on a tensor, whose result depends on the torchvision version:
bilinear with antialiasing since torchvision 0.17 ("antialias", the default: it reproduces the
official z on current torchvision) and without before ("plain", the torchvision < 0.17 result)."""


class CoICModel(nn.Module):
    """Backbone + rain-/detail-aware encoder. `forward(x, z=None)` restores x, computing z unless given."""

    def __init__(
        self,
        backbone: nn.Module,
        encoder: RainDetailEncoder,
        *,
        encoder_size: int = 128,
        momentum: float = 0.999,
        layout: Layout = "official",
        encoder_resize: str = "antialias",
    ) -> None:
        super().__init__()
        if encoder_resize not in ENCODER_RESIZES:
            raise ValueError(f"encoder_resize must be one of {ENCODER_RESIZES}, got {encoder_resize!r}")
        if getattr(backbone, "coic_context", None) is None:
            coicify(backbone, encoder.dim_z, layout)
        self.backbone = backbone
        self.encoder = encoder
        self.key_encoder = MomentumEncoder(encoder, momentum)
        self.encoder_size = encoder_size
        self.encoder_resize = encoder_resize
        self.modulation = True

    @property
    def dim_z(self) -> int:
        return self.encoder.dim_z

    def encoder_input(self, x: Tensor) -> Tensor:
        """The whole image resized to the encoder's square input, as the official code feeds it."""
        size = (self.encoder_size, self.encoder_size)
        if tuple(x.shape[-2:]) == size:
            return x
        antialias = self.encoder_resize == "antialias"
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=antialias)

    def embed(self, x: Tensor) -> Tensor:
        """z for each image of x: query encoder while training, momentum encoder in eval mode."""
        encoder = self.encoder if self.training else self.key_encoder
        z, _ = encoder(self.encoder_input(x))
        return z

    def forward(self, x: Tensor, z: Tensor | None = None) -> Tensor:
        if not self.modulation:
            return self.backbone(x)
        if z is None:
            z = self.embed(x)
        with context_of(self.backbone).use(z):
            return self.backbone(x)
