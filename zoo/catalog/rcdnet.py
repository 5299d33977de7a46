"""The card of RCDNet: configs, paper, official parameter count, recipe, converter and pretrained tags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .card import BackboneSpec, Converter
from .recipes import Recipe
from .registry import register_backbone

if TYPE_CHECKING:
    from torch import nn


def rcdnet(**kwargs: Any) -> nn.Module:
    """The plain RCDNet, its module imported only now (a broken architecture never breaks `import zoo`)."""
    from ..backbones.rcdnet import RCDNet

    return RCDNet(**kwargs)


CARD = register_backbone(BackboneSpec(
    name="rcdnet",
    builder=rcdnet,
    family="cnn",
    paper="Wang et al., A Model-driven Deep Neural Network for Single Image Rain Removal, CVPR 2020",
    configs={
        # Two stages exercise both the first-stage and the later-stage update paths.
        "tiny": {"stages": 2, "maps": 8, "channels": 8, "blocks": 1},
        # test_model.py / train_RCDNet.py: inter_iter=17, num_map=32, num_channel=32, num_block=4.
        "paper": {"stages": 17, "maps": 32, "channels": 32, "blocks": 4},
    },
    pad_multiple=1,
    min_size=1,
    params={"tiny": 15_500, "paper": 2_975_186},
    license="unknown (no licence file)",
    code="https://github.com/hongwang01/RCDNet (no licence file @ c6e1539); written after the CoIC versions in Schizophreni/CoIC (MIT)",
    paper_params=2_975_186,
    paper_params_source=(
        "built the official CoIC class models/RCDNet_CoIM.py RCDNet(opt) (Schizophreni/CoIC @ 8c99e73) with "
        "inter_iter=17, num_map=32, num_channel=32, num_block=4, dim_in=128 and counted its parameters without "
        "the g2pa_wgen MLPs: 5,080,610 - 2,105,424 (the official RCDNet checkpoints are not in the snapshot)"
    ),
    coic_params_note=(
        "official CoIC RCDNet: 5,080,610 = 2,975,186 + 2,105,424 in 288 modulation MLPs (every proximal-net conv "
        "is 3x3 and modulated; the rain-kernel convs are not); ours builds the same 288 at dim_z=128"
    ),
    recipe=Recipe(
        "rcdnet_stages", "adam", 1e-3, 16, 64, 260_000, 40_000 / 260_000,
        milestones=(0.181, 0.355, 0.529), gamma=0.2, contrast_weight=50.0, source="train_RCDNet.py",
        notes=(
            "contrast weight 50 is the script default, tuned to its 0..255 loss scale; the README's generic command passes 0.2",
            "milestones: epochs 26/51/76 of 144 at 1,807 iterations per epoch",
        ),
    ),
    spa_recipe={
        "milestones": (0.3613, 0.7087),
        "note": "mix5+spa: 3,613 iterations per epoch of the doubled data, so the decays after epochs 26/51 come at "
        "94k and 184k (0.3613/0.7087 of 260k); the third (epoch 76, 275k) falls after the run",
    },
    converter=Converter("zoo.models.convert.rcdnet:rename_rcdnet"),
    pretrained=("official_baseline", "official_coic"),
))
