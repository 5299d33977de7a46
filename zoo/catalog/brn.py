"""Registration of BRN: configs, paper and official parameter count."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .registry import register_backbone

if TYPE_CHECKING:
    from torch import nn


@register_backbone(
    "brn",
    family="cnn",
    paper="Ren et al., Single Image Deraining Using Bilateral Recurrent Network, IEEE TIP 2020",
    configs={
        "tiny": {"channels": 12, "iterations": 3, "image_blocks": 2, "rain_blocks": 1},
        "paper": {"channels": 32, "iterations": 8, "image_blocks": 5, "rain_blocks": 3},
    },
    params={"tiny": 41_346, "paper": 375_526},
    license="unknown (no licence file)",
    code="https://github.com/csdwren/RecDerain (no licence file @ 5b2ad01); written after the CoIC versions in Schizophreni/CoIC (MIT)",
    paper_params=375_526,
    paper_params_source="official CoIC checkpoints/Baseline/brn_model.pth (Schizophreni/CoIC @ 8c99e73)",
    coic_params_note="official CoIC BRN: 580,749 = 375,526 + 205,223 in 28 modulation MLPs; ours builds the same",
    test_overrides={"iterations": 8},
)
def brn(**kwargs: Any) -> nn.Module:
    from ..backbones.brn import BRN

    return BRN(**kwargs)
