"""The pretrained table: `<backbone>.<tag>` -> Hub repository, files, sha256, provenance.

Shaped like timm's pretrained configs. Each entry names the Hub repository that holds a model folder
(`config.json` + `model.safetensors` [+ `encoder.safetensors`]), the sha256 of each file where it is
known (`None`: trust the sha256 the Hub reports for the file, see `zoo.models.hub.pull`), the data it was
trained on, whether it is a CoIC or a baseline model, its licence and where it comes from. Which tags
a backbone has is written on its card (`BackboneSpec.pretrained`); the table refuses any other.

Published tags are frozen: a renamed tag gets an alias, never a silent change of weights.

    zoo.create_model("brn.coic_synthmix")
    zoo.create_model("brn", coic=True, pretrained="coic_synthmix")   # the same model
    zoo.create_model("hf-hub:coic-zoo/brn.coic_synthmix")            # the same repository, by id
"""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass, field
from typing import Any, Literal

from .. import defaults
from ..catalog import model_info
from ..errors import UnknownNameError, ZooError
from .files import CONFIG_FILE, ENCODER_FILE, MODEL_FILE

Method = Literal["baseline", "coic"]

HF_HUB_PREFIX = "hf-hub:"

COIC_PAPER = (
    "Wu Ran, Peirong Ma, Zhiquan He, Hao Ren, Hong Lu, Harnessing Joint Rain-/Detail-aware Representations "
    "to Eliminate Intricate Rains, ICLR 2024, arXiv:2404.12091"
)
COIC_BIBTEX = """@inproceedings{ran2024coic,
  title     = {Harnessing Joint Rain-/Detail-aware Representations to Eliminate Intricate Rains},
  author    = {Ran, Wu and Ma, Peirong and He, Zhiquan and Ren, Hao and Lu, Hong},
  booktitle = {International Conference on Learning Representations (ICLR)},
  year      = {2024},
  eprint    = {2404.12091},
  archivePrefix = {arXiv},
  url       = {https://openreview.net/forum?id=pdJXYfJjz9}
}"""

DEFAULT_DERAIN_TAG = "brn.official_baseline"
"""The model the README's first `zoo derain` uses (and, for one release, `zoo derain IMAGES` without a model): official
weights on real benchmarks, packaged, so it works offline."""

OFFICIAL_REPO = "https://github.com/Schizophreni/CoIC"
OFFICIAL_COMMIT = "8c99e733ab25869bf87cd720b9a6a65d62914dd6"


@dataclass(frozen=True)
class OfficialFile:
    """One file of the official repository at `OFFICIAL_COMMIT`: its path there and how to check a copy.

    `git_blob` is the object id the repository's tree records for the path (`git hash-object` of the
    content), so every file can be verified even where no sha256 was ever taken; `sha256` is added
    where a copy was measured. `role` is "model" or "encoder" (the MoCo state dict).
    """

    role: Literal["model", "encoder"]
    path: str
    git_blob: str
    sha256: str | None = None


@dataclass(frozen=True)
class PretrainedCfg:
    """One published set of weights: where it lives, how to check it, where it comes from.

    Every entry says where its files are (`where`): `packaged` with coic-zoo (`zoo.models.packaged`,
    no download; every file's sha256 recorded), `official` (`official_files` in the official CoIC
    repository, each with its git blob id, converted on first use by `zoo.models.official`; `files`
    then holds the sha256 of the converted files where known), or `hub` (the Hub repository
    `hf_hub_id`, every file's sha256 recorded). A packaged entry may name an `hf_hub_id` too: the
    mirror the release step pushes the same bytes to; and `official_files`, the official files it was
    converted from (its provenance: `fetch_official` rebuilds the same bytes from them). `files` maps each file of the model folder to its
    sha256 (`None` only where the weights come from elsewhere and the Hub copy is not the source).
    `config` and `model_args` rebuild the architecture without weights (`pretrained=False`); the
    folder's `config.json` is authoritative otherwise. `revision` pins a Hub commit; `None` means `main`.
    """

    backbone: str
    tag: str
    hf_hub_id: str | None
    method: Method
    train_data: str
    license: str
    files: dict[str, str | None]
    config: str = defaults.CONFIG
    model_args: dict[str, Any] = field(default_factory=dict)
    revision: str | None = None
    source: str = ""
    origin_url: str = ""
    citation: str = COIC_BIBTEX
    paper_ids: tuple[str, ...] = ("arXiv:2404.12091",)
    notes: str = ""
    official_files: tuple[OfficialFile, ...] = ()
    packaged: bool = False

    @property
    def name(self) -> str:
        return f"{self.backbone}.{self.tag}"

    @property
    def where(self) -> Literal["packaged", "official", "hub"]:
        """Where the weights are loaded from: inside the package, the official repository, or the Hub."""
        if self.packaged:
            return "packaged"
        return "official" if self.official_files else "hub"

    @property
    def coic(self) -> bool:
        return self.method == "coic"


_PRETRAINED: dict[str, PretrainedCfg] = {}


def register_pretrained(cfg: PretrainedCfg, *, overwrite: bool = False) -> PretrainedCfg:
    """Add `cfg` to the table. A published name is frozen, so re-registering it needs `overwrite=True`."""
    if cfg.method not in ("baseline", "coic"):
        raise ValueError(f"{cfg.name}: method must be 'baseline' or 'coic', got {cfg.method!r}")
    if "." in cfg.backbone or not cfg.tag:
        raise ValueError(f"{cfg.name}: a pretrained name is '<backbone>.<tag>' with no dot in the backbone")
    if cfg.tag not in model_info(cfg.backbone).pretrained:
        raise ValueError(f"{cfg.name}: the {cfg.backbone} card does not list tag '{cfg.tag}'; add it to its `pretrained`")
    if CONFIG_FILE not in cfg.files or MODEL_FILE not in cfg.files:
        raise ValueError(f"{cfg.name}: files must include {CONFIG_FILE} and {MODEL_FILE}")
    if cfg.packaged and any(sha is None for sha in cfg.files.values()):
        raise ValueError(f"{cfg.name}: a packaged entry records the sha256 of every file")
    if cfg.hf_hub_id is None and cfg.where == "hub":
        raise ValueError(f"{cfg.name}: no hf_hub_id, no official files and not packaged: nowhere to load it from")
    if cfg.name in _PRETRAINED and not overwrite:
        raise ValueError(f"pretrained tag {cfg.name!r} is registered twice")
    _PRETRAINED[cfg.name] = cfg
    return cfg


def list_pretrained(pattern: str = "*") -> list[str]:
    """Sorted `<backbone>.<tag>` names matching the fnmatch `pattern` (e.g. ``"brn.*"``, ``"*coic*"``)."""
    return sorted(name for name in _PRETRAINED if fnmatch.fnmatch(name, pattern))


def split_name(name: str) -> tuple[str, str]:
    """`"brn.coic_synthmix"` -> `("brn", "coic_synthmix")`; splits on the first dot, as timm does."""
    backbone, _, tag = name.partition(".")
    return backbone, tag


def pretrained_cfg(name: str) -> PretrainedCfg:
    """The table entry of `<backbone>.<tag>`; an unknown tag raises, listing the backbone's tags."""
    if name in _PRETRAINED:
        return _PRETRAINED[name]
    backbone, tag = split_name(name)
    if not tag:
        raise UnknownNameError(f"'{name}' names no pretrained tag; use '<backbone>.<tag>', e.g. {_examples()}")
    model_info(backbone)  # an unknown backbone raises with the closest known names
    tags = [n.partition(".")[2] for n in list_pretrained(f"{backbone}.*")]
    if not tags:
        raise UnknownNameError(f"backbone '{backbone}' has no pretrained weights yet; tagged models: {_examples()}")
    close = difflib.get_close_matches(tag, tags, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise UnknownNameError(
        f"unknown pretrained tag '{tag}' for backbone '{backbone}'; {hint}known tags: {', '.join(tags)}"
    )


def default_tag(backbone: str, coic: bool) -> PretrainedCfg:
    """The first registered tag of `backbone` with the requested method (`pretrained=True`)."""
    method = "coic" if coic else "baseline"
    for cfg in _PRETRAINED.values():
        if cfg.backbone == backbone and cfg.method == method:
            return cfg
    model_info(backbone)
    raise UnknownNameError(
        f"backbone '{backbone}' has no pretrained {method} weights; known tags: "
        f"{', '.join(list_pretrained(f'{backbone}.*')) or 'none'}"
    )


def find_by_repo(repo_id: str) -> PretrainedCfg | None:
    """The table entry published at Hub repository `repo_id`, if any."""
    for cfg in _PRETRAINED.values():
        if cfg.hf_hub_id == repo_id:
            return cfg
    return None


def _examples() -> str:
    return ", ".join(list_pretrained()[:4]) or "none registered"


def resolve(name: str, coic: bool, pretrained: str | bool | None) -> PretrainedCfg:
    """The table entry that (`name`, `coic`, `pretrained`) of `create_model` asks for."""
    if "." in name:
        cfg = pretrained_cfg(name)
        if isinstance(pretrained, str) and pretrained not in (cfg.tag, cfg.name):
            raise ZooError(
                f"'{name}' already names tag '{cfg.tag}'; pretrained='{pretrained}' contradicts it, pass only one"
            )
    elif isinstance(pretrained, str):
        tag = pretrained
        backbone, inline = split_name(pretrained)
        if inline:  # pretrained="brn.coic_synthmix"
            if backbone != name:
                raise ZooError(f"pretrained='{pretrained}' belongs to backbone '{backbone}', not '{name}'")
            tag = inline
        cfg = pretrained_cfg(f"{name}.{tag}")
    else:
        cfg = default_tag(name, coic)
    if coic and not cfg.coic:
        coic_tags = [n for n in list_pretrained(f"{cfg.backbone}.*") if _PRETRAINED[n].coic]
        raise ZooError(
            f"'{cfg.name}' holds baseline weights (no CoIC), but coic=True was asked for; drop coic=True "
            f"or pick a CoIC tag: {', '.join(coic_tags) or 'none yet'}"
        )
    return cfg


# --- the table ------------------------------------------------------------------------------------

_OFFICIAL_SOURCE = (
    f"official CoIC checkpoint from GitHub Schizophreni/CoIC @ {OFFICIAL_COMMIT}, converted by `zoo convert`"
)
# Git blob ids from the repository's tree at OFFICIAL_COMMIT; sha256 where a copy was measured
# (BRN's two model files, downloaded from that commit).
_BRN_BASELINE = OfficialFile(
    "model",
    "checkpoints/Baseline/brn_model.pth",
    "be2fc5fc3eacb4ebeb11002786e02592e9a9a9a5",
    "49ef280288ac8aaa6f2c7815a72e988f966950f08180c555cc8d3d8c0cc6bd5c",
)
_BRN_COIC = OfficialFile(
    "model",
    "checkpoints/CoIC/brn_model.pth",
    "c461978e13e2cbb0df1eaee1d8db9eb2e7568187",
    "ff60c7dbf1fbf1f047996e83b26c2236e9a9d964e8a36ed5ac160a75736ed7e9",
)
_BRN_ENC = OfficialFile("encoder", "checkpoints/CoIC/brn_enc.pth", "e9c93740183cdfff74af45386f7845282ca837e4")
_RCDNET_BASELINE = OfficialFile("model", "checkpoints/Baseline/rcdnet_model.pth", "ca79935609c0218b0a8cfb90155ed51e1f20c9c3")
_RCDNET_COIC = OfficialFile("model", "checkpoints/CoIC/rcdnet_model.pth", "8bdbf8481429ca42242fcbea5d0e4f84053c9613")
_RCDNET_ENC = OfficialFile("encoder", "checkpoints/CoIC/rcdnet_enc.pth", "000fa38e02b18f5c1ad444fbf2b7caf911215230")

register_pretrained(
    PretrainedCfg(
        backbone="brn",
        tag="official_baseline",
        hf_hub_id="coic-zoo/brn.official_baseline",
        method="baseline",
        train_data="rain200l,rain200h,rain800,did,ddn",
        license="mit",
        # What the conversion on first use writes, byte for byte (conversion is deterministic; the config
        # names the official file, brn_model.pth: converted from a copy named otherwise it differs there only).
        files={
            CONFIG_FILE: "fe2870a2f1273b4a452a1ec5c26d3e362f2757524bf57c001b65ac9c7aec3bf8",
            MODEL_FILE: "0d03ebc37893cdc9309359f0bc5bfb225e6bb5d73534f83bb39ce63ae6294550",
        },
        config="paper",
        model_args={"iterations": 8},
        source=f"{_OFFICIAL_SOURCE} from checkpoints/Baseline/brn_model.pth "
        "(sha256 49ef280288ac8aaa6f2c7815a72e988f966950f08180c555cc8d3d8c0cc6bd5c)",
        origin_url=f"{OFFICIAL_REPO}/tree/{OFFICIAL_COMMIT}/checkpoints/Baseline",
        notes="BRN trained without CoIC by the CoIC authors (8 recurrent iterations at test time); "
        "packaged with coic-zoo (1.5 MB, the official MIT licence beside it), so it derains with no download",
        official_files=(_BRN_BASELINE,),
        packaged=True,
    )
)
register_pretrained(
    PretrainedCfg(
        backbone="brn",
        tag="coic_synthmix",
        hf_hub_id="coic-zoo/brn.coic_synthmix",
        method="coic",
        train_data="synthmix",
        license="mit",
        files={
            CONFIG_FILE: "6c2e0a32cbbe47899e15db3f6eee3ce06ec3f237cb10b70152c9c04045884abc",
            MODEL_FILE: "449da2d6ef35fdf21c0229b12130951369a1a4ddf6425655e915200fef3d0f6f",
            ENCODER_FILE: "0eafda9e080b20b71df4dfb673eed5a7fa0743de6af524d6a50f2edce573524f",
        },
        config="tiny",
        source="trained by coic-zoo: `zoo train brn --coic` on the embedded synthetic benchmark (synthmix), "
        "seed 0, the tiny recipe (400 iterations, 120 in stage 1, batch 8, crop 64), packed by tools/pack_pretrained.py",
        origin_url="https://huggingface.co/coic-zoo/brn.coic_synthmix",
        notes="tiny BRN with CoIC and its encoder; a CPU-sized demonstration model, not the paper's; "
        "packaged with coic-zoo (its scores in metrics.json and leaderboards/pretrained.md)",
        packaged=True,
    )
)
register_pretrained(
    PretrainedCfg(
        backbone="brn",
        tag="baseline_synthmix",
        hf_hub_id="coic-zoo/brn.baseline_synthmix",
        method="baseline",
        train_data="synthmix",
        license="mit",
        files={
            CONFIG_FILE: "7855f4528c441a5f4e7af10705db9a113259af3b8d48f034ec3448edcf8da5b0",
            MODEL_FILE: "4199a6dcf5a1864cdebb6c3eba8d071bd06bd342e9e5c29d8b0696f2fbd1f381",
        },
        config="tiny",
        source="trained by coic-zoo: `zoo train brn --no-coic` on the embedded synthetic benchmark (synthmix), "
        "seed 0, the tiny recipe (400 iterations, batch 8, crop 64), packed by tools/pack_pretrained.py",
        origin_url="https://huggingface.co/coic-zoo/brn.baseline_synthmix",
        notes="tiny BRN without CoIC, the same recipe and seed as brn.coic_synthmix; packaged with coic-zoo",
        packaged=True,
    )
)
register_pretrained(
    PretrainedCfg(
        backbone="brn",
        tag="official_coic",
        hf_hub_id=None,  # not mirrored on the Hub: the converted files' hashes are not all recorded
        method="coic",
        train_data="rain200l,rain200h,rain800,did,ddn",
        license="mit",
        # The backbone file is what `zoo convert` writes, byte for byte; the config and the encoder
        # file depend on brn_enc.pth, which has not been measured here.
        files={
            CONFIG_FILE: None,
            MODEL_FILE: "fab09935044aead2705087644d63b2ccf1e68ed535197ddae0b5ad20725c755a",
            ENCODER_FILE: None,
        },
        config="paper",
        model_args={"iterations": 8},
        source=f"{_OFFICIAL_SOURCE} from checkpoints/CoIC/brn_model.pth "
        "(sha256 ff60c7dbf1fbf1f047996e83b26c2236e9a9d964e8a36ed5ac160a75736ed7e9) and checkpoints/CoIC/brn_enc.pth",
        origin_url=f"{OFFICIAL_REPO}/tree/{OFFICIAL_COMMIT}/checkpoints/CoIC",
        notes="BRN with CoIC by the CoIC authors, with its MoCo encoder: z from encoder_k on the input resized "
        "to 128 x 128, as the official test_model.py",
        official_files=(_BRN_COIC, _BRN_ENC),
    )
)
register_pretrained(
    PretrainedCfg(
        backbone="rcdnet",
        tag="official_baseline",
        hf_hub_id=None,  # not mirrored on the Hub: the converted files' hashes are not all recorded
        method="baseline",
        train_data="rain200l,rain200h,rain800,did,ddn",
        license="mit",
        files={CONFIG_FILE: None, MODEL_FILE: None},
        config="paper",
        source=f"{_OFFICIAL_SOURCE} from checkpoints/Baseline/rcdnet_model.pth",
        origin_url=f"{OFFICIAL_REPO}/tree/{OFFICIAL_COMMIT}/checkpoints/Baseline",
        notes="RCDNet trained without CoIC by the CoIC authors (17 stages)",
        official_files=(_RCDNET_BASELINE,),
    )
)
register_pretrained(
    PretrainedCfg(
        backbone="rcdnet",
        tag="official_coic",
        hf_hub_id=None,  # not mirrored on the Hub: the converted files' hashes are not all recorded
        method="coic",
        train_data="rain200l,rain200h,rain800,did,ddn",
        license="mit",
        files={CONFIG_FILE: None, MODEL_FILE: None, ENCODER_FILE: None},
        config="paper",
        source=f"{_OFFICIAL_SOURCE} from checkpoints/CoIC/rcdnet_model.pth and checkpoints/CoIC/rcdnet_enc.pth",
        origin_url=f"{OFFICIAL_REPO}/tree/{OFFICIAL_COMMIT}/checkpoints/CoIC",
        notes="RCDNet with CoIC by the CoIC authors, with its MoCo encoder (z from encoder_k on the 128 x 128 input)",
        official_files=(_RCDNET_COIC, _RCDNET_ENC),
    )
)
