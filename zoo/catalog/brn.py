"""The card of BRN: configs, paper, official parameter count, recipe, converter and pretrained tags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .card import BackboneSpec, Converter
from .recipes import Recipe
from .registry import register_backbone

if TYPE_CHECKING:
    from torch import nn


def brn(**kwargs: Any) -> nn.Module:
    """The plain BRN, its module imported only now (a broken architecture never breaks `import zoo`)."""
    from ..backbones.brn import BRN

    return BRN(**kwargs)


CARD = register_backbone(BackboneSpec(
    name="brn",
    builder=brn,
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
    recipe=Recipe(
        "neg_ssim", "adam", 1e-3, 12, 100, 260_000, 40_000 / 260_000,
        milestones=(0.2872, 0.4725, 0.7505), gamma=0.2, rain_pool=False, source="train_BRN.py",
        notes=(
            "milestones: MultiStepLR [30, 50, 80] stepped with the finished epoch's index, so the decays start "
            "after epochs 31/51/81 of 2,409 iterations (0.2872/0.4725/0.7505 of 260k)",
            "rain-aware negative from the current batch only (train_BRN.py:92-97)",
        ),
    ),
    spa_recipe={
        "milestones": (0.5743, 0.9449),
        "note": "mix5+spa: 4,817 iterations per epoch of the doubled data, so the decays after epochs 31/51 come at "
        "149k and 246k (0.5743/0.9449 of 260k); the third (epoch 81, 390k) falls after the run",
    },
    converter=Converter("zoo.models.convert.brn:rename_brn", overrides={"iterations": 8}),
    pretrained=("official_baseline", "coic_synthmix", "baseline_synthmix", "official_coic"),
))
