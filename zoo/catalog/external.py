"""spandrel's restoration architectures registered as coic-zoo backbones (no architecture code here).

spandrel (chaiNNer-org, MIT) keeps published restoration networks as plain `nn.Module`s, each in its
own upstream licence, and reads their checkpoints by key; `spandrel-extra-arches` holds the ones
under restrictive licences. Each card below names one architecture that maps RGB to RGB at the same
size and trains: its spandrel class, a `tiny` config for CPU, a `paper` config matching a published
model (a deraining one where it exists), the licence of its code and where CoIC's z enters.

Neither torch nor spandrel is imported here (only inside a builder), so `import zoo` and
`zoo models` stay light: the parameter counts are recorded in the cards and the tests recount them.
A builder wraps spandrel's class in zoo.backbones.external's adapter (padding to the size the
architecture needs, one output image, DRUNet's noise-level map) and stores the card's
`ContextPattern`s on the model, where `coicify` finds them. Cards of an architecture whose package
is not installed (spandrel-extra-arches) are not registered; asking for one names the package.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..layers.patterns import PATTERNS_ATTR, ContextPattern
from .card import BackboneSpec
from .registry import note_unavailable, register_backbone

if TYPE_CHECKING:
    from torch import nn

SPANDREL = "spandrel"
EXTRA = "spandrel_extra_arches"
EXTRA_HINT = "it needs spandrel-extra-arches: pip install 'coic-zoo[extra-arches]' (architectures under academic, non-commercial licences)"
ACADEMIC = "Academic-Public (non-commercial)"


@dataclass(frozen=True)
class ExternalArch:
    """One spandrel architecture as a coic-zoo backbone."""

    name: str
    arch_id: str  # spandrel's ArchId, e.g. "NAFNet"
    module: str  # the module exporting the class
    cls: str
    family: str
    paper: str
    code: str  # upstream repository of the architecture code
    license: str
    configs: dict[str, dict[str, Any]]
    paper_source: str  # the published model `paper` matches, and where its arguments come from
    paper_params: int
    tiny_params: int
    multiple: Callable[[nn.Module], int]  # the pad multiple of a built model (the card's size rule)
    pad_multiple: int  # the paper config's, for `zoo info`
    square: bool = False  # pads to a square (the card's `square_input`)
    context_points: tuple[ContextPattern, ...] = ()
    undetectable: tuple[str, ...] = ()  # constructor arguments spandrel cannot read from a checkpoint
    noise_map: bool = False
    notes: str = ""
    renames: tuple[tuple[str, str], ...] = ()  # (our argument, spandrel's) where spandrel's clashes with ours

    @property
    def package(self) -> str:
        return self.module.split(".")[0]

    def to_spandrel(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Builder arguments under spandrel's names."""
        out = dict(kwargs)
        for ours, theirs in self.renames:
            if ours in out:
                out[theirs] = out.pop(ours)
        return out

    def from_spandrel(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """spandrel's constructor arguments under our names (what `overrides` hold)."""
        out = dict(kwargs)
        for ours, theirs in self.renames:
            if theirs in out:
                out[ours] = out.pop(theirs)
        return out


def spandrel_class(arch: ExternalArch) -> type:
    """The spandrel class of `arch`, imported now."""
    from ..backbones.external import spandrel_class as load

    return load(arch.module, arch.cls)


def _builder(arch: ExternalArch) -> Callable[..., nn.Module]:
    def build(**kwargs: Any) -> nn.Module:
        from ..backbones.external import adapted, construct

        noise_level = kwargs.pop("noise_level", 15.0) if arch.noise_map else None
        model = construct(adapted(spandrel_class(arch)), arch.to_spandrel(kwargs))
        model.zoo_multiple = arch.multiple(model)
        model.zoo_square = arch.square
        hp = model.hyperparameters
        if noise_level is not None and hp["in_nc"] == hp["out_nc"] + 1:
            model.zoo_noise_level = float(noise_level)
        setattr(model, PATTERNS_ATTR, arch.context_points)
        return model

    build.__name__ = arch.name
    build.__doc__ = f"{arch.cls} from {arch.package}, adapted for coic-zoo (see zoo.catalog.external)."
    return build


def _levels(key: str) -> Callable[[nn.Module], int]:
    return lambda model: 2 ** len(model.hyperparameters[key])


def _fixed(n: int) -> Callable[[nn.Module], int]:
    return lambda model: n


_NORM_CHW = ContextPattern("*.norm1", channel_dim=1)

ARCHS: tuple[ExternalArch, ...] = (
    ExternalArch(
        name="nafnet", arch_id="NAFNet", module="spandrel.architectures.NAFNet", cls="NAFNet", family="cnn",
        paper="Chen et al., Simple Baselines for Image Restoration (NAFNet), ECCV 2022",
        code="https://github.com/megvii-research/NAFNet", license="MIT",
        configs={
            "tiny": {"width": 8, "enc_blk_nums": [1, 1], "middle_blk_num": 1, "dec_blk_nums": [1, 1]},
            "paper": {"width": 32, "enc_blk_nums": [2, 2, 4, 8], "middle_blk_num": 12, "dec_blk_nums": [2, 2, 2, 2]},
        },
        paper_source=(
            "no deraining model; NAFNet-SIDD-width32 (real denoising), options/test/SIDD/NAFNet-width32.yml "
            "(megvii-research/NAFNet @ 2b4af71). The GoPro models run as NAFNetLocal, which spandrel lacks"
        ),
        paper_params=29_159_715, tiny_params=19_899, multiple=_levels("enc_blk_nums"), pad_multiple=16,
    ),
    ExternalArch(
        name="kbnet", arch_id="KBNet", module="spandrel.architectures.KBNet", cls="KBNet_l", family="transformer",
        paper="Zhang et al., KBNet: Kernel Basis Network for Image Restoration, arXiv:2303.02881 (2023)",
        code="https://github.com/zhangyi-3/KBNet", license="MIT",
        configs={
            "tiny": {"dim": 12, "num_blocks": [1, 1, 1, 1], "num_refinement_blocks": 1, "heads": [1, 2, 4, 8], "ffn_expansion_factor": 1.5},
            "paper": {"dim": 48, "num_blocks": [4, 6, 6, 8], "num_refinement_blocks": 4, "heads": [1, 2, 4, 8],
                      "ffn_expansion_factor": 1.5, "bias": False},
        },
        paper_source="the deraining KBNet_l: Deraining/Options/kbnet_l.yml (zhangyi-3/KBNet @ ec33fb3)",
        paper_params=29_568_100, tiny_params=708_839, multiple=_fixed(8), pad_multiple=8,
        # KBBlock_l names its transposed self-attention `ffn` and its kernel-basis branch `attn`:
        # z enters before the self-attention's norm, where its q, k, v are formed.
        context_points=(ContextPattern("*.norm2", channel_dim=1),),
        notes="widths must divide by 24 from 24 on (a grouped conv with min(dim, 24) groups)",
    ),
    ExternalArch(
        name="kbnet_s", arch_id="KBNet", module="spandrel.architectures.KBNet", cls="KBNet_s", family="cnn",
        paper="Zhang et al., KBNet: Kernel Basis Network for Image Restoration, arXiv:2303.02881 (2023)",
        code="https://github.com/zhangyi-3/KBNet", license="MIT",
        configs={
            "tiny": {"width": 8, "enc_blk_nums": [1, 1], "middle_blk_num": 1, "dec_blk_nums": [1, 1],
                     "lightweight": True, "ffn_scale": 1.5},
            "paper": {"width": 64, "enc_blk_nums": [2, 2, 4, 8], "middle_blk_num": 12, "dec_blk_nums": [2, 2, 2, 2],
                      "lightweight": True, "ffn_scale": 1.5},
        },
        paper_source="no deraining model; the SIDD denoiser: Denoising/Options/sidd.yml (zhangyi-3/KBNet @ ec33fb3)",
        paper_params=128_403_395, tiny_params=118_531, multiple=_levels("enc_blk_nums"), pad_multiple=16,
    ),
    ExternalArch(
        name="uformer", arch_id="Uformer", module="spandrel.architectures.Uformer", cls="Uformer", family="transformer",
        paper="Wang et al., Uformer: A General U-Shaped Transformer for Image Restoration, CVPR 2022",
        code="https://github.com/ZhendongWang6/Uformer", license="MIT",
        configs={
            "tiny": {"img_size": 64, "embed_dim": 8, "depths": [1] * 9, "num_heads": [1, 2, 4, 8, 16, 16, 8, 4, 2],
                     "win_size": 4, "token_projection": "linear", "token_mlp": "leff", "modulator": True},
            "paper": {"img_size": 128, "embed_dim": 32, "depths": [1, 2, 8, 8, 2, 8, 8, 2, 1],
                      "num_heads": [1, 2, 4, 8, 16, 16, 8, 4, 2], "win_size": 8, "token_projection": "linear",
                      "token_mlp": "leff", "modulator": True, "dd_in": 3},
        },
        paper_source=(
            "Uformer-B as released for SIDD and GoPro (the paper's SPAD deraining model is not released): "
            "utils/model_utils.py 'Uformer_B', --train_ps 128 (ZhendongWang6/Uformer @ 65fc970)"
        ),
        paper_params=50_880_946, tiny_params=785_072, multiple=lambda m: 16 * m.hyperparameters["win_size"], pad_multiple=128,
        square=True,
        context_points=(ContextPattern("*.blocks.*.norm1", channel_dim=-1),),
        undetectable=("img_size", "drop_rate", "attn_drop_rate", "drop_path_rate", "shift_flag", "qk_scale"),
        notes="its tokens assume a square map: inputs are mirror-padded to a square multiple of 16 x win_size",
    ),
    ExternalArch(
        name="scunet", arch_id="SCUNet", module="spandrel.architectures.SCUNet", cls="SCUNet", family="transformer",
        paper="Zhang et al., Practical Blind Image Denoising via Swin-Conv-UNet and Data Synthesis, MIR 2023",
        code="https://github.com/cszn/SCUNet", license="Apache-2.0",
        configs={
            "tiny": {"blocks": [1, 0, 0, 1, 0, 0, 1], "dim": 64, "input_resolution": 64},
            "paper": {"blocks": [4, 4, 4, 4, 4, 4, 4], "dim": 64},
        },
        paper_source=(
            "no deraining model; scunet_color_real_psnr (blind real denoising): main_test_scunet_real_application.py "
            "(cszn/SCUNet @ 52e440a)"
        ),
        paper_params=17_946_072, tiny_params=3_955_594, multiple=_fixed(64), pad_multiple=64,
        context_points=(ContextPattern("*.trans_block.ln1", channel_dim=-1),),
        undetectable=("drop_path_rate", "input_resolution"),
        renames=(("blocks", "config"),),
        notes="head width 32 and window 8 are fixed, so dim must be a multiple of 64; `blocks` is SCUNet's `config`",
    ),
    ExternalArch(
        name="fftformer", arch_id="FFTformer", module="spandrel.architectures.FFTformer", cls="FFTformer",
        family="transformer",
        paper="Kong et al., Efficient Frequency Domain-based Transformers for High-Quality Image Deblurring, CVPR 2023",
        code="https://github.com/kkkls/FFTformer", license="MIT",
        configs={
            "tiny": {"dim": 8, "num_blocks": [1, 1, 1], "num_refinement_blocks": 1, "ffn_expansion_factor": 3},
            "paper": {"dim": 48, "num_blocks": [6, 6, 12], "num_refinement_blocks": 4, "ffn_expansion_factor": 3, "bias": False},
        },
        paper_source="no deraining model; the GoPro deblurring model: options/train/GoPro.yml (kkkls/FFTformer @ 01306b5)",
        paper_params=16_560_474, tiny_params=113_230, multiple=_fixed(32), pad_multiple=32,
        # Only the decoder and refinement blocks have the frequency self-attention (and a norm1).
        context_points=(_NORM_CHW,),
    ),
    ExternalArch(
        name="drunet", arch_id="DRUNet", module="spandrel.architectures.DRUNet", cls="DRUNet", family="cnn",
        paper="Zhang et al., Plug-and-Play Image Restoration with Deep Denoiser Prior (DRUNet), IEEE TPAMI 2021",
        code="https://github.com/cszn/DPIR", license="MIT",
        configs={
            "tiny": {"in_nc": 3, "out_nc": 3, "nc": [8, 16, 32, 64], "nb": 2},
            "paper": {"in_nc": 4, "out_nc": 3, "nc": [64, 128, 256, 512], "nb": 4, "act_mode": "R",
                      "downsample_mode": "strideconv", "upsample_mode": "convtranspose", "noise_level": 15},
        },
        paper_source=(
            "no deraining model; drunet_color (RGB + noise-level map): main_dpir_denoising.py (cszn/DPIR @ 15bca3f); "
            "noise_level 15 as spandrel feeds it"
        ),
        paper_params=32_640_960, tiny_params=266_160, multiple=_fixed(8), pad_multiple=8,
        undetectable=("act_mode",), noise_map=True,
        notes="paper config: a 4th input channel holds noise_level/255 (constant), as the published denoiser expects",
    ),
    ExternalArch(
        name="swinir", arch_id="SwinIR", module="spandrel.architectures.SwinIR", cls="SwinIR", family="transformer",
        paper="Liang et al., SwinIR: Image Restoration Using Swin Transformer, ICCV Workshops 2021",
        code="https://github.com/JingyunLiang/SwinIR", license="Apache-2.0",
        configs={
            "tiny": {"img_size": 64, "embed_dim": 16, "depths": [2, 2], "num_heads": [2, 2], "window_size": 4,
                     "mlp_ratio": 2.0, "upscale": 1, "upsampler": "", "resi_connection": "1conv", "img_range": 1.0},
            "paper": {"img_size": 128, "embed_dim": 180, "depths": [6] * 6, "num_heads": [6] * 6, "window_size": 8,
                      "mlp_ratio": 2.0, "upscale": 1, "upsampler": "", "resi_connection": "1conv", "img_range": 1.0},
        },
        paper_source=(
            "no deraining model; 1x colour denoising (005_colorDN_DFWB_s128w8_SwinIR-M): main_test_swinir.py "
            "--task color_dn (JingyunLiang/SwinIR @ 6545850)"
        ),
        paper_params=11_504_163, tiny_params=17_195, multiple=lambda m: m.hyperparameters["window_size"], pad_multiple=8,
        context_points=(ContextPattern("layers.*.residual_group.blocks.*.norm1", channel_dim=-1),),
        undetectable=("qkv_bias", "qk_scale", "drop_rate", "attn_drop_rate", "drop_path_rate", "ape", "patch_norm"),
        notes="upscale 1 only (the denoising / JPEG layout); img_size sets the stored attention masks",
    ),
    ExternalArch(
        name="grl", arch_id="GRL", module="spandrel.architectures.GRL", cls="GRL", family="transformer",
        paper="Li et al., Efficient and Explicit Modelling of Image Hierarchies for Image Restoration (GRL), CVPR 2023",
        code="https://github.com/ofsoundof/GRL-Image-Restoration", license="MIT",
        configs={
            "tiny": {"img_size": 64, "embed_dim": 16, "depths": [2, 2], "num_heads_window": [1, 1],
                     "num_heads_stripe": [1, 1], "window_size": 8, "stripe_size": [8, 8], "stripe_groups": [None, None],
                     "stripe_shift": True, "mlp_ratio": 2, "anchor_window_down_factor": 4, "upscale": 1, "upsampler": ""},
            "paper": {"img_size": 256, "embed_dim": 64, "depths": [4, 4, 4, 4], "num_heads_window": [2, 2, 2, 2],
                      "num_heads_stripe": [2, 2, 2, 2], "window_size": 16, "stripe_size": [64, 128],
                      "stripe_groups": [None, None], "stripe_shift": True, "mlp_ratio": 2, "qkv_proj_type": "linear",
                      "anchor_proj_type": "avgpool", "anchor_one_stage": True, "anchor_window_down_factor": 4,
                      "conv_type": "1conv", "local_connection": False, "upscale": 1, "upsampler": ""},
        },
        paper_source=(
            "no deraining model; GRL-T colour denoising: config/experiment/dn/grl/grl_p256.yaml with "
            "config/model/grl/grl_tiny.yaml (ofsoundof/GRL-Image-Restoration @ 3123fca)"
        ),
        paper_params=880_227, tiny_params=41_935, multiple=lambda m: m.pad_size, pad_multiple=128,
        # z enters the projection that forms the window and stripe attentions' q, k, v.
        context_points=(ContextPattern("layers.*.blocks.*.attn.qkv.body", channel_dim=-1),),
        undetectable=("img_size", "window_size", "stripe_size", "stripe_groups", "stripe_shift", "pretrained_window_size",
                      "pretrained_stripe_size", "init_method", "euclidean_dist", "drop_rate", "attn_drop_rate",
                      "drop_path_rate", "out_proj_type", "anchor_proj_type", "anchor_window_down_factor"),
        notes="window and stripe sizes are not in a checkpoint without its index tables: the config's are used",
    ),
    ExternalArch(
        name="restormer", arch_id="Restormer", module="spandrel_extra_arches.architectures.Restormer", cls="Restormer",
        family="transformer",
        paper="Zamir et al., Restormer: Efficient Transformer for High-Resolution Image Restoration, CVPR 2022",
        code="https://github.com/swz30/Restormer", license=ACADEMIC,
        configs={
            "tiny": {"dim": 8, "num_blocks": [1, 1, 1, 1], "num_refinement_blocks": 1, "heads": [1, 2, 4, 8],
                     "ffn_expansion_factor": 2.66},
            "paper": {"dim": 48, "num_blocks": [4, 6, 6, 8], "num_refinement_blocks": 4, "heads": [1, 2, 4, 8],
                      "ffn_expansion_factor": 2.66, "bias": False, "LayerNorm_type": "WithBias", "dual_pixel_task": False},
        },
        paper_source="the deraining model: Deraining/Options/Deraining_Restormer.yml (swz30/Restormer @ df766d5)",
        paper_params=26_126_644, tiny_params=208_225, multiple=_fixed(8), pad_multiple=8,
        context_points=(_NORM_CHW,),
    ),
    ExternalArch(
        name="mprnet", arch_id="MPRNet", module="spandrel_extra_arches.architectures.MPRNet", cls="MPRNet", family="cnn",
        paper="Zamir et al., Multi-Stage Progressive Image Restoration, CVPR 2021",
        code="https://github.com/swz30/MPRNet", license=ACADEMIC,
        configs={
            "tiny": {"n_feat": 8, "scale_unetfeats": 4, "scale_orsnetfeats": 4, "num_cab": 1},
            "paper": {"n_feat": 40, "scale_unetfeats": 20, "scale_orsnetfeats": 16, "num_cab": 8, "kernel_size": 3,
                      "reduction": 4, "bias": False},
        },
        paper_source="the deraining model: Deraining/MPRNet.py defaults, MPRNet() in Deraining/train.py (swz30/MPRNet @ 43feb2a)",
        paper_params=3_637_249, tiny_params=99_301, multiple=_fixed(8), pad_multiple=8,
        notes="three stage outputs: forward returns the last, forward_stages all (the official loss, charbonnier_edge, sums them)",
    ),
    ExternalArch(
        name="mirnet2", arch_id="MIRNet2", module="spandrel_extra_arches.architectures.MIRNet2", cls="MIRNet2",
        family="cnn",
        paper="Zamir et al., Learning Enriched Features for Fast Image Restoration and Enhancement (MIRNet-v2), IEEE TPAMI 2022",
        code="https://github.com/swz30/MIRNetv2", license=ACADEMIC,
        configs={
            "tiny": {"n_feat": 16, "chan_factor": 1.5, "n_MRB": 1},
            "paper": {"n_feat": 80, "chan_factor": 1.5, "n_MRB": 2, "bias": False},
        },
        paper_source=(
            "no deraining model; real denoising: Real_Denoising/Options/RealDenoising_MIRNet_v2.yml "
            "(swz30/MIRNetv2 @ 9014049; n_RRG 4 and height 3 are fixed in spandrel's copy)"
        ),
        paper_params=5_858_560, tiny_params=123_472, multiple=_fixed(4), pad_multiple=4,
        notes="widths n_feat x chan_factor^k must divide by 4 (grouped convs)",
    ),
)

EXTERNAL: dict[str, ExternalArch] = {arch.name: arch for arch in ARCHS}


def _available(package: str) -> bool:
    return importlib.util.find_spec(package) is not None  # finds, does not import


def _register(arch: ExternalArch) -> None:
    if not _available(arch.package):
        note_unavailable(arch.name, EXTRA_HINT if arch.package == EXTRA else "it needs spandrel: pip install spandrel")
        return
    register_backbone(BackboneSpec(
        name=arch.name,
        builder=_builder(arch),
        family=arch.family,
        paper=arch.paper,
        configs=arch.configs,
        pad_multiple=arch.pad_multiple,
        multiple=arch.multiple,
        square_input=arch.square,
        min_size=1,
        paper_params=arch.paper_params,
        paper_params_source=f"{arch.paper_source}; counted on {arch.package}'s class",
        source="spandrel",
        license=arch.license,
        code=arch.code,
        context_points=arch.context_points,
        params={"tiny": arch.tiny_params, "paper": arch.paper_params},
        notes=arch.notes,
    ))


for _arch in ARCHS:
    _register(_arch)
