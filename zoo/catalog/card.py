"""The backbone card: one frozen dataclass holding everything coic-zoo knows about a backbone but its weights.

A backbone is one architecture file (zoo/backbones/) plus one card (zoo/catalog/), registered with
`register_backbone(card)`. Every layer above the catalog reads the card instead of keeping its own
table: the trainer its recipe, `zoo convert` its converter, inference and export its size rule, the
pretrained table its tags, `zoo models`/`zoo info` the rest. Shaped like spandrel's
`ModelDescriptor`: each field below says what it holds and what reads it.

Nothing here imports torch or anything above the catalog: the builder and the converter are imported
only when used, the converter by its dotted path (the catalog cannot import zoo.models).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import defaults
from ..errors import UnknownNameError

if TYPE_CHECKING:  # torch is imported only when a backbone is built: `zoo models` never needs it
    from torch import nn

    from .recipes import Recipe

Builder = Callable[..., "nn.Module"]

CONFIG_NAMES = ("tiny", "paper")
CODE_ORIGINS = ("zoo", "spandrel")  # whose code builds a backbone: ours, or spandrel's
FAMILIES = ("cnn", "transformer")


@dataclass(frozen=True)
class Converter:
    """How `zoo convert` turns an official CoIC checkpoint of the backbone into a model folder."""

    rename: str
    """`module:function` of `rename(official_key) -> our key or None` (None: not a key of this backbone).
    zoo.models.convert.official imports it when a checkpoint is converted; the catalog cannot."""
    config: str = "paper"
    """The config the official checkpoint was trained with; the converted model is built with it."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Constructor arguments on top of `config` that the official test script sets (recorded in the
    converted folder's config.json); `convert_official(model_args=...)` replaces them."""


@dataclass(frozen=True)
class BackboneSpec:
    """A backbone's card: its architecture, provenance, recipe, converter, size rule and pretrained tags."""

    name: str
    """The registry key (`create_model(name)`, `zoo train NAME`); also the first part of pretrained tags."""
    builder: Builder
    """`builder(**config) -> nn.Module`, the plain backbone; imports its architecture lazily, so one
    broken backbone never breaks `import zoo`. Read by `build` (zoo.models.build, every model)."""
    family: str
    """Either "cnn" or "transformer": `list_models(family=...)`, `zoo models`, and where `zoo info` says z enters."""
    paper: str
    """The paper the architecture comes from, as `zoo models`, `zoo info` and model cards cite it."""
    configs: dict[str, dict[str, Any]]
    """Named constructor arguments, at least `tiny` (CPU work, tests) and `paper` (the published model);
    `build(config)` and `zoo info` read them, `zoo train --config` picks one."""
    params: dict[str, int] = field(default_factory=dict)
    """Parameters of each config's plain backbone, so `zoo models` builds nothing; tests recount them."""
    paper_params: int | None = None
    """The plain backbone's parameter count as the official code builds it; `zoo models` marks a match."""
    paper_params_source: str = ""
    """Where `paper_params` comes from (file and commit), printed by `zoo info`."""
    coic_params_note: str = ""
    """How the official CoIC model's count splits into backbone and modulation, printed by `zoo info`."""
    source: str = "zoo"
    """Whose code builds it: "zoo" (zoo/backbones/) or "spandrel"; `zoo models` and `zoo info` show it."""
    license: str = "unknown (no licence file)"
    """The licence of the architecture's upstream code (`zoo models`, `zoo info`, Hub model cards)."""
    code: str = ""
    """Where the upstream code lives (repository and commit), printed by `zoo info`."""
    context_points: tuple[Any, ...] = ()
    """`ContextPattern`s where coicify lets z into a model it cannot mark itself (spandrel's);
    the builder stores them on the model, `zoo info` describes them."""
    notes: str = ""
    """Quirks `zoo info` prints."""
    pad_multiple: int = 1
    """Size rule: the multiple the `paper` config pads its input to (1: any size). `zoo info` prints it;
    export reads it (through `multiple_of`) for every config when `multiple` is None."""
    multiple: Callable[[nn.Module], int] | None = None
    """Size rule where the config sets the multiple: `multiple(built backbone) -> int` (IDT's windows,
    spandrel's levels). Read by `multiple_of`, i.e. by ONNX export for its traced and checked sizes."""
    square_input: bool = False
    """Size rule: the backbone pads its input to a square (spandrel's Uformer), so export refuses a
    dynamic size."""
    min_size: int = 1
    """Size rule: the smallest image side the backbone takes; inference refuses smaller images with one
    line naming it, export never traces below it."""
    test_tile: int = 512
    """Size rule: the official evaluation's tile (official test_model.py: --tile 512; IDT 128). Images
    whose smaller side exceeds it are restored in tiles by `evaluate_set(tile="official")`."""
    test_overlap: int = 0
    """Size rule: the official evaluation's tile overlap (0 for every official script)."""
    test_overrides: dict[str, Any] = field(default_factory=dict)
    """Constructor arguments the official test script sets on top of `paper`; printed by `zoo info`."""
    recipe: Recipe | None = None
    """The paper training recipe, as the official `train_<Backbone>.py` sets it; zoo.catalog.recipes
    reads it (`paper_recipe`, and `tiny_recipe` scales it); None: BRN's, marked as such."""
    spa_recipe: dict[str, Any] = field(default_factory=dict)
    """Changes to `recipe` for training data with SPA balanced in (`mix5+spa` doubles an epoch, which
    moves epoch-based decays), with a `note`; read by `recipes.spa_recipe` and shown by `zoo info`."""
    converter: Converter | None = None
    """The official-checkpoint converter (`zoo convert`); None: no official CoIC checkpoint exists."""
    pretrained: tuple[str, ...] = ()
    """Tags of published weights (`create_model("NAME.TAG")`); zoo.models.pretrained's table holds each
    tag's files and provenance and refuses a tag its card does not list."""

    def __post_init__(self) -> None:
        if self.source not in CODE_ORIGINS:
            raise ValueError(f"source must be one of {CODE_ORIGINS}, got {self.source!r}")
        if self.family not in FAMILIES:
            raise ValueError(f"family must be 'cnn' or 'transformer', got {self.family!r}")
        missing = [c for c in CONFIG_NAMES if c not in self.configs]
        if missing:
            raise ValueError(f"backbone {self.name!r} lacks configs {missing}")

    def config(self, name: str) -> dict[str, Any]:
        """The keyword arguments of config `name`; a wrong name lists the known ones."""
        if name not in self.configs:
            raise UnknownNameError(
                f"backbone '{self.name}' has no config '{name}'; choose one of: {', '.join(self.configs)}"
            )
        return dict(self.configs[name])

    def build(self, config: str = defaults.CONFIG, **overrides: Any) -> nn.Module:
        """Build the plain backbone of config `config`, with keyword `overrides` on top."""
        kwargs = self.config(config)
        kwargs.update({key: value for key, value in overrides.items() if value is not None})
        return self.builder(**kwargs)

    def multiple_of(self, backbone: nn.Module) -> int:
        """The multiple the built plain `backbone` pads its input to: the card's rule for its config."""
        return self.multiple(backbone) if self.multiple is not None else self.pad_multiple

    def num_params(self, config: str) -> int:
        """Parameters of the plain backbone of `config`: the count recorded in its card (checked
        against a real build by the tests), else counted by building it."""
        return self.params[config] if config in self.params else self.count_params(config)

    def count_params(self, config: str) -> int:
        """Parameters of the plain backbone, counted by building it without allocating memory (meta device)."""
        import torch

        with torch.device("meta"):
            model = self.build(config)
        return sum(p.numel() for p in model.parameters())
