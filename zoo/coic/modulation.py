"""CoI-M, the context-based instance-specific modulation of CoIC, added to any backbone after the fact.

Backbones are plain PyTorch modules that know nothing of CoIC. `coicify(model, dim_z)` walks one in
place and swaps every convolution whose kernel is larger than 1x1 for a modulated twin that keeps
the original `weight` and `bias` parameters (so state-dict keys and pretrained weights survive), and
every `ContextPoint` a Transformer placed where its attention input is formed for an embedding of z.

Per instance b a modulated convolution computes, exactly as the official `models/CoIM.py` does,

    a = MLP([z_b, mean_hw(x_b)])            split into w1 (C_out), w2 (C_in/groups), w3 (kh*kw)
    M = sigmoid(w2[:, None] + w1[None, :])  a (C_in/groups) x C_out array
    A = kh*kw * softmax_taps(M[..., None] * w3)
    kernel_b = W * A.reshape(C_out, C_in/groups, kh, kw)

The last reshape is the official layout quirk: the C_in x C_out array is re-read, not transposed, as
C_out x C_in. It is the default (`layout="official"`) because the published checkpoints were trained
with it; `layout="corrected"` transposes instead, for new experiments only.

All layers of one model read z from a shared `ModulationContext`; with no z set (stage 1, or
modulation switched off) every layer runs its plain parent forward, so the model computes exactly
the plain backbone.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..layers import ContextPoint
from ..layers.patterns import PATTERNS_ATTR, ContextPattern
from .patterns import attach_context_points
from .per_instance import per_instance_conv2d

Layout = Literal["official", "corrected"]
LAYOUTS: tuple[str, ...] = ("official", "corrected")

CONTEXT_ATTR = "coic_context"


class ModulationContext:
    """The embedding z that every modulated layer of one model reads during a forward pass.

    It is a plain object, not a module, so it adds nothing to the state dict; `copy.deepcopy` of the
    model copies it once and keeps it shared by the copied layers (what an EMA copy needs).
    """

    def __init__(self) -> None:
        self.z: Tensor | None = None

    @contextmanager
    def use(self, z: Tensor | None) -> Iterator[None]:
        """Set z for the duration of one forward pass (None means plain, unmodulated)."""
        previous, self.z = self.z, z
        try:
            yield
        finally:
            self.z = previous


def _modulator(in_features: int, hidden: int, out_features: int) -> nn.Sequential:
    # Same layer order as the official `g2pa_wgen`, so official checkpoints map index for index.
    return nn.Sequential(
        nn.Linear(in_features, hidden),
        nn.ReLU(inplace=True),
        nn.Linear(hidden, 16),
        nn.ReLU(inplace=True),
        nn.Linear(16, out_features),
    )


def _tap_attention(a: Tensor, n_first: int, n_second: int, taps: int, layout: Layout) -> Tensor:
    """Per-instance scale over (first, second, taps) from the MLP output `a`.

    `a` holds w1 (n_first values, the axis that varies along the array's columns), then w2
    (n_second values, its rows), then w3 (taps values). Returns a B x n_first x n_second x taps
    tensor in the layout the caller's weight expects. The operations run in the official order
    (softmax, then `* taps`, then `weight *`), so float rounding matches the official outputs too.

    The softmax runs with the taps as the outer axis (B x taps x n_second x n_first), not the
    innermost one as the official code has it: a softmax over a 9-long innermost axis is a slow,
    unvectorised loop on CPU, over an outer axis it vectorises along the long inner one. Measured
    on 2 cores for a 96 -> 32 layer at batch 4, this cut the scale's forward + backward from 1.9 ms
    to 0.55 ms; values agree to float rounding (tests/test_official_parity.py).
    """
    w1 = a[:, :n_first]
    w2 = a[:, n_first : n_first + n_second]
    w3 = a[:, n_first + n_second :]
    grid = torch.sigmoid(w2.unsqueeze(-1) + w1.unsqueeze(1))  # B x n_second x n_first
    att = torch.softmax(grid.unsqueeze(1) * w3[:, :, None, None], dim=1) * taps
    if layout == "official":
        return att.permute(0, 2, 3, 1).reshape(a.shape[0], n_first, n_second, taps)
    return att.permute(0, 3, 2, 1)


class _Modulated:
    """What the modulated convolutions share: the context, the MLP and the scale computation."""

    context: ModulationContext | None
    layout: Layout
    modulator: nn.Sequential

    @classmethod
    def _twin(cls, conv: nn.Module):
        """An instance of `cls` holding `conv`'s hyper-parameters and the very same parameter objects."""
        new = cls.__new__(cls)
        new.__dict__.update(conv.__dict__)
        new._parameters = dict(conv._parameters)
        new._buffers = dict(conv._buffers)
        new._modules = dict(conv._modules)
        return new

    def _setup(self, dim_z: int, in_channels: int, hidden: int, out_features: int, layout: Layout) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
        self.dim_z = dim_z
        self.layout = layout
        self.context = None
        weight: Tensor = self.weight  # type: ignore[attr-defined]
        self.modulator = _modulator(dim_z + in_channels, hidden, out_features).to(
            device=weight.device, dtype=weight.dtype
        )

    def _active_z(self) -> Tensor | None:
        return None if self.context is None else self.context.z

    def _mlp(self, x: Tensor, z: Tensor) -> Tensor:
        if z.shape[0] != x.shape[0]:
            raise ValueError(f"z has batch {z.shape[0]} but the layer input has batch {x.shape[0]}")
        # sum / count is the same float32 number as mean (ATen's mean is that sum and division), but its
        # backward hands the input an expanded view instead of materialising a full-size gradient.
        stats = x.sum(dim=(-2, -1)) / (x.shape[-2] * x.shape[-1])
        return self.modulator(torch.cat([z.to(stats.dtype), stats], dim=-1))


class ModulatedConv2d(nn.Conv2d, _Modulated):
    """A Conv2d whose kernel is rescaled per instance from z and its input's channel means."""

    @classmethod
    def from_conv(cls, conv: nn.Conv2d, dim_z: int, layout: Layout = "official") -> ModulatedConv2d:
        """A modulated twin of `conv` sharing its weight and bias parameters."""
        new = cls._twin(conv)
        c_in_g = conv.in_channels // conv.groups
        # The official MLP is narrower for grouped convs (C_out // 16); at least one unit here,
        # where the official code would build an empty layer for C_out < 16.
        hidden = max(conv.out_channels // 16, 1) if conv.groups > 1 else conv.out_channels
        taps = conv.kernel_size[0] * conv.kernel_size[1]
        new._setup(dim_z, conv.in_channels, hidden, conv.out_channels + c_in_g + taps, layout)
        return new

    def instance_kernels(self, x: Tensor, z: Tensor) -> Tensor:
        """B x C_out x C_in/groups x kh x kw: the weight rescaled for each instance of x from z and x's channel means."""
        c_in_g = self.in_channels // self.groups
        kh, kw = self.kernel_size
        att = _tap_attention(self._mlp(x, z), self.out_channels, c_in_g, kh * kw, self.layout)
        return self.weight.unsqueeze(0) * att.reshape(x.shape[0], self.out_channels, c_in_g, kh, kw)

    def forward(self, x: Tensor) -> Tensor:
        z = self._active_z()
        if z is None:
            return super().forward(x)
        kernels = self.instance_kernels(x, z)
        if self.padding_mode != "zeros":
            x = F.pad(x, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            padding: int | tuple[int, ...] | str = 0
        else:
            padding = self.padding
        return per_instance_conv2d(x, kernels, self.bias, self.stride, padding, self.dilation, self.groups)


class ModulatedConvTranspose2d(nn.ConvTranspose2d, _Modulated):
    """A ConvTranspose2d modulated like the official `TConvTranspose` (weight is C_in x C_out/G)."""

    @classmethod
    def from_conv(
        cls, conv: nn.ConvTranspose2d, dim_z: int, layout: Layout = "official"
    ) -> ModulatedConvTranspose2d:
        new = cls._twin(conv)
        c_out_g = conv.out_channels // conv.groups
        taps = conv.kernel_size[0] * conv.kernel_size[1]
        new._setup(dim_z, conv.in_channels, conv.out_channels, conv.in_channels + c_out_g + taps, layout)
        return new

    def forward(self, x: Tensor, output_size: list[int] | None = None) -> Tensor:
        z = self._active_z()
        if z is None:
            return super().forward(x, output_size)
        batch = x.shape[0]
        c_out_g = self.out_channels // self.groups
        kh, kw = self.kernel_size
        att = _tap_attention(self._mlp(x, z), self.in_channels, c_out_g, kh * kw, self.layout)
        kernels = self.weight.unsqueeze(0) * att.reshape(batch, self.in_channels, c_out_g, kh, kw)
        output_padding = self._output_padding(
            x, output_size, list(self.stride), list(self.padding), list(self.kernel_size), 2,
            list(self.dilation),
        )
        bias = None if self.bias is None else self.bias.repeat(batch)
        out = F.conv_transpose2d(
            x.reshape(1, batch * self.in_channels, *x.shape[-2:]),
            kernels.reshape(batch * self.in_channels, c_out_g, kh, kw),
            bias, self.stride, self.padding, output_padding, batch * self.groups, self.dilation,
        )
        return out.reshape(batch, self.out_channels, *out.shape[-2:])


class ModulatedContextPoint(ContextPoint):
    """A ContextPoint that lets z in: x + SiLU->Linear(z), or the mean of both."""

    def __init__(
        self, channels: int, dim_z: int, mode: Literal["add", "mean"] = "add", channel_dim: int = 1
    ) -> None:
        super().__init__(channels, mode, channel_dim)
        self.embed = nn.Sequential(nn.SiLU(), nn.Linear(dim_z, channels))
        self.context: ModulationContext | None = None

    @classmethod
    def from_point(cls, point: ContextPoint, dim_z: int, like: Tensor | None = None) -> ModulatedContextPoint:
        new = cls(point.channels, dim_z, point.mode, point.channel_dim)  # type: ignore[arg-type]
        if like is not None:
            new.to(device=like.device, dtype=like.dtype)
        new.train(point.training)
        return new

    def forward(self, x: Tensor) -> Tensor:
        z = None if self.context is None else self.context.z
        if z is None:
            return x
        e = self.embed(z.to(x.dtype))
        shape = [x.shape[0]] + [1] * (x.dim() - 1)
        shape[self.channel_dim] = self.channels
        e = e.reshape(shape)
        return x + e if self.mode == "add" else (x + e) / 2


MODULATED_TYPES = (ModulatedConv2d, ModulatedConvTranspose2d, ModulatedContextPoint)


def _first_tensor(model: nn.Module) -> Tensor | None:
    for tensor in model.parameters():
        return tensor
    return None


def coicify(
    model: nn.Module, dim_z: int, layout: Layout = "official", context_points: Sequence[ContextPattern] | None = None
) -> nn.Module:
    """Turn the plain `model` into a CoIC-modulated one, in place, keeping all its weights.

    Every Conv2d / ConvTranspose2d with a kernel larger than 1x1 becomes its modulated twin; 1x1
    convolutions stay plain (the official code never modulates them), and so do `PlainConv2d` and any
    other subclass (its forward may differ, so it is never swapped silently); every `ContextPoint`
    becomes a `ModulatedContextPoint`. `context_points` (`ContextPattern`s; by default the model's
    own `coic_context_points` attribute, if any) attach the same z-embedding from outside, to the
    input of the modules they name: the way into a third-party Transformer. All of them share one
    `ModulationContext`, stored on the model as `model.coic_context`. If the model defines
    `coic_init(module)` (its own weight initialiser, as IDT's), it is applied to the added MLPs and
    embeddings, as the official code initialises them with the backbone. Returns the model. Calling
    it twice is an error, not a silent no-op.
    """
    if getattr(model, CONTEXT_ATTR, None) is not None:
        raise ValueError("model is already coicified")
    context = ModulationContext()
    like = _first_tensor(model)
    replacements: list[tuple[nn.Module, str, nn.Module]] = []
    for parent in model.modules():
        for child_name, child in parent.named_children():
            new: nn.Module | None = None
            if type(child) is nn.Conv2d and child.kernel_size != (1, 1):
                new = ModulatedConv2d.from_conv(child, dim_z, layout)
            elif type(child) is nn.ConvTranspose2d and child.kernel_size != (1, 1):
                new = ModulatedConvTranspose2d.from_conv(child, dim_z, layout)
            elif type(child) is ContextPoint:
                new = ModulatedContextPoint.from_point(child, dim_z, like)
            if new is not None:
                new.context = context  # type: ignore[assignment]
                replacements.append((parent, child_name, new))
    init = getattr(model, "coic_init", None)
    for parent, child_name, new in replacements:
        setattr(parent, child_name, new)
        if init is not None:
            added = new.embed if isinstance(new, ModulatedContextPoint) else new.modulator
            added.apply(init)
    def outside_point(channels: int, pattern: ContextPattern) -> ModulatedContextPoint:
        point = ModulatedContextPoint(channels, dim_z, pattern.mode, pattern.channel_dim)
        if like is not None:
            point.to(device=like.device, dtype=like.dtype)
        point.context = context
        if init is not None:
            point.embed.apply(init)
        return point

    patterns = getattr(model, PATTERNS_ATTR, ()) if context_points is None else context_points
    attach_context_points(model, patterns, outside_point)
    setattr(model, CONTEXT_ATTR, context)
    return model


def context_of(model: nn.Module) -> ModulationContext:
    """The shared context of a coicified model."""
    context = getattr(model, CONTEXT_ATTR, None)
    if context is None:
        raise ValueError("model is not coicified; call zoo.coicify(model, dim_z) first")
    return context


def modulated_layers(model: nn.Module) -> Iterator[tuple[str, nn.Module]]:
    """(name, module) of every modulated convolution and context point of `model`."""
    for name, module in model.named_modules():
        if isinstance(module, MODULATED_TYPES):
            yield name, module


def modulation_parameters(model: nn.Module) -> Iterator[nn.Parameter]:
    """The parameters CoIC adds (modulation MLPs and context embeddings), not the backbone's own."""
    for _, module in modulated_layers(model):
        owned = module.embed if isinstance(module, ModulatedContextPoint) else module.modulator
        yield from owned.parameters()
