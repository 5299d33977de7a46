"""The card of IDT: configs, paper, official parameter count, size rule, recipe and converter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .card import BackboneSpec, Converter
from .recipes import Recipe
from .registry import register_backbone

if TYPE_CHECKING:
    from torch import nn


def idt(**kwargs: Any) -> nn.Module:
    """The plain IDT, its module imported only now (a broken architecture never breaks `import zoo`)."""
    from ..backbones.idt import IDT

    return IDT(**kwargs)


def idt_multiple(net: nn.Module) -> int:
    """IDT pads to a multiple its windows and patches set per config (64 tiny, 128 paper); the module computes it."""
    return int(net.pad_multiple)


CARD = register_backbone(BackboneSpec(
    name="idt",
    builder=idt,
    family="transformer",
    paper="Xiao et al., Image De-raining Transformer, IEEE TPAMI 2022",
    configs={
        # 4x4 windows and patches, built for 64 crops: pads to multiples of 64, not 128.
        "tiny": {
            "embed_dim": 8,
            "depths": [1, 1, 1, 1, 1, 1, 1, 1, 1],
            "num_heads": [1, 1, 2, 2, 4, 4, 2, 2, 1],
            "window": 4,
            "patch": 4,
            "train_size": 64,
        },
        "paper": {
            "embed_dim": 32,
            "depths": [3, 3, 2, 2, 1, 1, 2, 2, 3],
            "num_heads": [1, 2, 4, 8, 16, 16, 8, 4, 2],
            "window": 8,
            "patch": 8,
            "window_k_bound": 8,
            "patch_k_bounds": [16, 8, 4, 2],
            "mlp_ratio": 4.0,
            "drop_path_rate": 0.1,
            "train_size": 128,
        },
    },
    pad_multiple=128,  # the paper config's; the tiny config pads to 64
    multiple=idt_multiple,
    min_size=1,
    params={"tiny": 925_437, "paper": 16_422_543},
    test_tile=128,  # built for 128 x 128 only: the official CoIC evaluation feeds it 128 tiles, overlap 0
    license="MIT",
    code="https://github.com/jiexiaou/IDT (LICENSE: MIT @ d72510c); written after the CoIC versions in Schizophreni/CoIC (MIT)",
    paper_params=16_422_543,
    paper_params_source=(
        "official CoIC models/IDT_CoIM.py, IDT(opt=None) built and counted (Schizophreni/CoIC @ 8c99e73): "
        "18,953,632 minus the g2pa_wgen MLPs and context_emb layers"
    ),
    coic_params_note=(
        "official CoIC IDT: 18,953,632 = 16,422,543 + 1,953,169 in 37 g2pa_wgen MLPs + 577,920 in 27 "
        "context embeddings; all its TConvs have kernels > 1, so ours builds the same 18,953,632"
    ),
    recipe=Recipe(
        "neg_ssim", "adam", 1e-4, 8, 128, 397_000, 40_000 / 397_000,
        milestones=(0.918,), gamma=0.1, rain_pool=False, source="train_IDT.py",
        notes=(
            "110 epochs of the mix at batch 8; MultiStepLR [100, 250, 350] stepped per epoch: x0.1 from epoch 101",
            "the script reads an undefined stage1_iters: 40k as in the README",
            "rain-aware negative from the current batch only (train_IDT.py:90-95)",
        ),
    ),
    spa_recipe={
        "iters": 794_750,
        "stage1_fraction": 40_000 / 794_750,
        "note": "mix5+spa: 110 epochs of 7,225 iterations = 794,750 iterations (40k in stage 1), the decay after epoch 100 "
        "at the same 0.918 of the run",
    },
    converter=Converter("zoo.models.convert.idt:rename_idt"),
))
