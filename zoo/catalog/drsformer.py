"""The card of DRSformer: configs, paper, official parameter count, size rule, recipe and converter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .card import BackboneSpec, Converter
from .recipes import Recipe
from .registry import register_backbone

if TYPE_CHECKING:
    from torch import nn


def drsformer(**kwargs: Any) -> nn.Module:
    """The plain DRSformer, its module imported only now (a broken architecture never breaks `import zoo`)."""
    from ..backbones.drsformer import DRSformer

    return DRSformer(**kwargs)


CARD = register_backbone(BackboneSpec(
    name="drsformer",
    builder=drsformer,
    family="transformer",
    paper="Chen et al., Learning A Sparse Transformer Network for Effective Image Deraining, CVPR 2023",
    configs={
        "tiny": {"dim": 8, "num_blocks": [1, 1, 1, 1], "heads": [1, 2, 4, 8], "ffn_expansion_factor": 1.5, "mefc_steps": 1},
        "paper": {
            "dim": 48,
            "num_blocks": [4, 6, 6, 8],
            "heads": [1, 2, 4, 8],
            "ffn_expansion_factor": 2.66,
            "bias": False,
            "layer_norm": "with_bias",
            "mefc": True,
            "mefc_steps": 4,
        },
    },
    pad_multiple=8,
    min_size=1,
    params={"tiny": 232_554, "paper": 33_669_632},
    license="unknown (no licence file)",
    code="https://github.com/cschenxiang/DRSformer (no licence file @ e77bbb4); written after the CoIC versions in Schizophreni/CoIC (MIT)",
    paper_params=33_669_632,
    paper_params_source=(
        "official CoIC models/DRSformer_CoIM.py, DRSformer(opt=None) built and counted "
        "(Schizophreni/CoIC @ 8c99e73): 47,794,309 minus the g2pa_wgen MLPs and context_emb layers"
    ),
    coic_params_note=(
        "official CoIC DRSformer: 47,794,309 = 33,669,632 + 13,208,261 in 256 g2pa_wgen MLPs + 916,416 in "
        "40 context embeddings; 16 of those MLPs (36,584 params) sit on the kernel-1 depthwise convs of the "
        "sep_conv_1x1 experts, which the official forward never modulates; coicify skips them: 47,757,725"
    ),
    recipe=Recipe(
        "l1", "adamw", 3e-4, 4, 128, 400_000, 40_000 / 400_000,
        schedule="cyclic_cosine", periods=(0.23, 0.52, 0.5), cycle_floors=(3e-4, 1e-4, 1e-6),
        weight_decay=1e-4, coic_weight_decay=0.01, grad_clip=0.01, source="train_DRSformer.py",
        notes=(
            "CosineAnnealingRestartCyclicLR, periods 92k/208k/200k, floors 3e-4/1e-4/1e-6, cut at 400k",
            "AdamW: weight decay 1e-4 for the backbone, the default 0.01 for CoIC parts and encoder",
            "gradient norm clipped to 0.01 over the backbone (modulation included), not the encoder",
            "the script reads an undefined stage1_iters: 40k as in the README",
        ),
    ),
    converter=Converter("zoo.models.convert.drsformer:rename_drsformer"),
))
