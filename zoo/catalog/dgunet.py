"""The card of DGUNet: configs, paper, official parameter count, size rule, recipe and converter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .card import BackboneSpec, Converter
from .recipes import Recipe
from .registry import register_backbone

if TYPE_CHECKING:
    from torch import nn


def dgunet(**kwargs: Any) -> nn.Module:
    """The plain DGUNet, its module imported only now (a broken architecture never breaks `import zoo`)."""
    from ..backbones.dgunet import DGUNet

    return DGUNet(**kwargs)


CARD = register_backbone(BackboneSpec(
    name="dgunet",
    builder=dgunet,
    family="cnn",
    paper="Mou et al., Deep Generalized Unfolding Networks for Image Restoration, CVPR 2022",
    configs={
        # Widths must stay even (half-instance norm); depth 1 keeps one weight-shared middle stage.
        "tiny": {"channels": 8, "growth": 4, "fusion_growth": 4, "depth": 1, "gdm_hidden": 8, "subspace": 8},
        # The official DGUNet(opt) hard-codes n_feat=40, scale_unetfeats=20, scale_orsnetfeats=16,
        # reduction=4; train_DGUNet.py and test_model.py use depth=5.
        "paper": {
            "channels": 40,
            "growth": 20,
            "fusion_growth": 16,
            "depth": 5,
            "reduction": 4,
            "gdm_hidden": 64,
            "subspace": 16,
        },
    },
    pad_multiple=8,
    min_size=9,
    params={"tiny": 149_665, "paper": 3_633_117},
    license="unknown (no licence file)",
    code="https://github.com/MC-E/Deep-Generalized-Unfolding-Networks-for-Image-Restoration (no licence file @ bae845c); written after the CoIC versions in Schizophreni/CoIC (MIT)",
    paper_params=3_633_117,
    paper_params_source=(
        "built the official CoIC class models/DGUNet_CoIM.py DGUNet(opt) (Schizophreni/CoIC @ 8c99e73) with "
        "depth=5, dim_in=128 and counted its parameters without the g2pa_wgen MLPs: 5,256,739 - 1,623,622 "
        "(a PReLU shared by two blocks counts once; the official state dict lists it twice)"
    ),
    coic_params_note=(
        "official CoIC DGUNet: 5,256,739 = 3,633,117 + 1,623,622 in 101 modulation MLPs, of which 18 "
        "(307,726 params) sit on 1x1 convs that mode='tran' never calls; ours builds only the 83 used ones: "
        "1,315,896, total 4,949,013 at dim_z=128"
    ),
    # test_model.py sets depth=5; it repeats weight-shared stages, so it does not change the parameters.
    test_overrides={"depth": 5},
    recipe=Recipe(
        "charbonnier_edge", "adam", 2e-4, 16, 128, 400_000, 40_000 / 400_000,
        schedule="cosine", eta_min=1e-6, explode_guard=10.0, source="train_DGUNet.py",
        notes=("stage 2: gradients clipped to norm 1e-8 when abs(output) > 10 (train_DGUNet.py:165-168)",),
    ),
    converter=Converter("zoo.models.convert.dgunet:rename_dgunet"),
))
