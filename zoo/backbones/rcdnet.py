"""RCDNet, the rain convolutional dictionary network (Wang et al., CVPR 2020), as the official CoIC code builds it.

Paper: H. Wang, Q. Xie, Q. Zhao, D. Meng, "A Model-driven Deep Neural Network for Single Image Rain
Removal", CVPR 2020. Layout follows the CoIC release (`models/RCDNet_CoIM.py` of Schizophreni/CoIC,
itself derived from leftthomas' re-implementation).

A rainy image O is modelled as O = B + sum_k C_k * M_k: a background B plus rain maps M (`maps`
channels) convolved with a dictionary of rain kernels C (3 x maps x 9 x 9). The network unfolds
`stages` proximal-gradient iterations. Each stage takes a gradient step on M (through the transposed
kernel convolution), cleans it with a proximal net (`MNet`), re-synthesises the rain layer
R = C * M, takes a gradient step on B and cleans [B, Z] with a second proximal net (`BNet`; Z holds
`channels` auxiliary feature maps). An initial BNet estimates B0 and Z0 from the input and a 3x3
filtering of it; a final BNet refines the last [B, Z]. Every proximal net is a stack of `blocks`
residual blocks (3x3 conv - BN - ReLU - 3x3 conv - BN, then skip and ReLU).

Quirks absorbed here, so callers see only the [0, 1] contract:

* The official network works in the 0..255 range (its thresholds `tau` and step sizes assume it):
  the official test feeds `255 * x` and reads `outputs[1][-1] / 255`. `forward` does that scaling
  itself and returns only that final background, in [0, 1].
* The rain-kernel convolutions (C and C0) and the 3x3 initial filter (`init_filter`) are functional
  convolutions with learnable weights, as in the official code, where CoIC never modulates them
  (only its `TConv` layers are modulated). Keeping them functional means `coicify` also leaves them
  plain, exactly like the official `mode='tran'`; only the 3x3 convolutions of the proximal nets
  become modulated.
* The official code wraps one loaded kernel tensor in two parameters (`c0`, `c`), so they start
  equal (and share storage until the model is moved to a GPU). Here they are two independent
  parameters with the same initial value, from the official `kernel.mat` (MIT, see
  `assets/LICENSE-CoIC.txt`). With fewer than 32 maps the first `maps` kernels are used.
* No padding is needed: every convolution keeps the spatial size, so any H x W works.

Training: the official loss supervises every stage; `forward_stages` returns B0, every stage's B
and R, and the final B, and `official_loss` computes the official weighted sum from them (in the
official 0..255 units, which sets its balance against CoIC's contrastive term).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

PIXEL_SCALE = 255.0
"""The official network's pixel range: inputs and outputs are scaled by this inside the module."""

KERNEL_FILE = "rcdnet_kernel.mat"
KERNEL_KEY = "C9"
KERNEL_SIZE = 9
KERNEL_MAPS = 32
STEP_DIVISOR = 10.0
"""The official code divides the kernels and step sizes by 10 to slow their updates."""


@lru_cache(maxsize=1)
def _kernel_init() -> np.ndarray:
    """The official 3 x 32 x 9 x 9 rain-kernel initialisation, read once from the package data."""
    from scipy.io import loadmat

    with resources.files("zoo.backbones").joinpath("assets").joinpath(KERNEL_FILE).open("rb") as handle:
        kernel = np.asarray(loadmat(handle)[KERNEL_KEY], dtype=np.float32)
    if kernel.shape != (3, KERNEL_MAPS, KERNEL_SIZE, KERNEL_SIZE):
        raise ValueError(f"{KERNEL_FILE}: expected a 3x32x9x9 kernel, got {kernel.shape}")
    return kernel


def rain_kernel(maps: int) -> Tensor:
    """The initial rain kernels for `maps` rain maps (3 x maps x 9 x 9), on the current default device."""
    if not 1 <= maps <= KERNEL_MAPS:
        raise ValueError(f"RCDNet's kernel initialisation holds {KERNEL_MAPS} maps; got maps={maps}")
    # torch.tensor honours a `with torch.device(...)` context (meta included), unlike from_numpy.
    return torch.tensor(_kernel_init()[:, :maps], dtype=torch.get_default_dtype())


class ResidualBlock(nn.Module):
    """conv-BN-ReLU-conv-BN; the owning proximal net adds the skip and the final ReLU."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, 1)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: Tensor) -> Tensor:
        return self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))


class ProxNet(nn.Module):
    """A proximal operator: `blocks` residual blocks, each x <- ReLU(x + block(x))."""

    def __init__(self, channels: int, blocks: int) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(ResidualBlock(channels) for _ in range(blocks))

    def forward(self, x: Tensor) -> Tensor:
        for block in self.blocks:
            x = F.relu(x + block(x))
        return x


class MNet(ProxNet):
    """Proximal net of the rain maps M, ending in a learnt soft threshold that keeps them sparse."""

    def __init__(self, maps: int, blocks: int) -> None:
        super().__init__(maps, blocks)
        self.tau = nn.Parameter(torch.full((1, maps, 1, 1), 0.5))

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(super().forward(x) - self.tau)


class BNet(ProxNet):
    """Proximal net of the background: works on [B (3 channels), Z (`channels` channels)]."""

    def __init__(self, channels: int, blocks: int) -> None:
        super().__init__(channels + 3, blocks)


class RCDNetStages(NamedTuple):
    """Every intermediate estimate of one forward pass, in [0, 1] units (rain layers may be negative).

    `initial` is B0 from the initial BNet; `backgrounds` holds the background of each of the `stages`
    stages followed by the final refined one (`stages + 1` entries, the last being what `forward`
    returns); `rains` holds the rain layer R of each stage (`stages` entries).
    """

    initial: Tensor
    backgrounds: list[Tensor]
    rains: list[Tensor]


class RCDNet(nn.Module):
    """Rain convolutional dictionary network.

    `stages` unfolded iterations (the official `inter_iter`), `maps` rain maps (`num_map`, at most
    32), `channels` auxiliary background channels (`num_channel`), `blocks` residual blocks per
    proximal net (`num_block`). `forward(x)` maps a rainy [0, 1] image to the restored one.
    """

    def __init__(self, stages: int = 17, maps: int = 32, channels: int = 32, blocks: int = 4) -> None:
        super().__init__()
        if stages < 1:
            raise ValueError(f"RCDNet needs at least one stage, got stages={stages}")
        self.stages = stages
        self.maps = maps
        self.channels = channels
        # Step sizes of the M updates after the first stage, and of every B update.
        self.m_step = nn.Parameter(torch.ones(stages - 1, 1))
        self.b_step = nn.Parameter(torch.full((stages, 1), 5.0))
        # Rain kernels: `kernel0` only for the first M estimate, `kernel` everywhere else.
        kernel = rain_kernel(maps)
        self.kernel0 = nn.Parameter(kernel.clone())
        self.kernel = nn.Parameter(kernel.clone())
        # Fixed-size 3x3 filter that turns the input into the initial Z features (mean filter at init).
        self.init_filter = nn.Parameter(torch.full((channels, 3, 3, 3), 1.0 / 9))
        # Threshold of the initial rain estimate relu(O - B0 - tau).
        self.tau = nn.Parameter(torch.ones(1))
        self.m_nets = nn.ModuleList(MNet(maps, blocks) for _ in range(stages))
        self.b_nets = nn.ModuleList(BNet(channels, blocks) for _ in range(stages))
        self.b_init = BNet(channels, blocks)
        self.b_last = BNet(channels, blocks)

    def _synthesise(self, m: Tensor) -> Tensor:
        """Rain layer R = C * M."""
        return F.conv2d(m, self.kernel / STEP_DIVISOR, padding=KERNEL_SIZE // 2)

    def _analyse(self, r: Tensor, kernel: Tensor) -> Tensor:
        """Transpose of the synthesis, C^T * r (maps a 3-channel image to `maps` channels)."""
        return F.conv_transpose2d(r, kernel / STEP_DIVISOR, padding=KERNEL_SIZE // 2)

    def _unfold(self, o: Tensor) -> tuple[Tensor, list[Tensor], list[Tensor]]:
        """The official forward on a 0..255 image: (B0, backgrounds, rains), all in 0..255."""
        bz = self.b_init(torch.cat([o, F.conv2d(o, self.init_filter, padding=1)], dim=1))
        b0, z = bz[:, :3], bz[:, 3:]
        backgrounds: list[Tensor] = []
        rains: list[Tensor] = []
        b = b0
        m: Tensor | None = None
        for i in range(self.stages):
            if m is None:
                # First stage: rain maps from the thresholded residual through the initial kernels.
                m = self.m_nets[0](self._analyse(F.relu(o - b0 - self.tau), self.kernel0))
            else:
                r = rains[-1]
                m = self.m_nets[i](m - self.m_step[i - 1] / STEP_DIVISOR * self._analyse(r - (o - b), self.kernel))
            r = self._synthesise(m)
            step = self.b_step[i] / STEP_DIVISOR
            b_hat = (1 - step) * b + step * (o - r)
            bz = self.b_nets[i](torch.cat([b_hat, z], dim=1))
            b, z = bz[:, :3], bz[:, 3:]
            rains.append(r)
            backgrounds.append(b)
        backgrounds.append(self.b_last(bz)[:, :3])
        return b0, backgrounds, rains

    def forward_stages(self, x: Tensor) -> RCDNetStages:
        """All intermediate estimates for a rainy [0, 1] image x, rescaled to [0, 1] units.

        For the official multi-stage loss (`zoo.training.losses.rcdnet_stages`). Under a coicified model call it
        inside `zoo.coic.context_of(model).use(z)` like `forward`.
        """
        b0, backgrounds, rains = self._unfold(x * PIXEL_SCALE)
        return RCDNetStages(
            initial=b0 / PIXEL_SCALE,
            backgrounds=[b / PIXEL_SCALE for b in backgrounds],
            rains=[r / PIXEL_SCALE for r in rains],
        )

    def forward(self, x: Tensor) -> Tensor:
        return self._unfold(x * PIXEL_SCALE)[1][-1] / PIXEL_SCALE

