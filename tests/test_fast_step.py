"""The optimised CoIC train step computes the same gradients as a straightforward implementation.

The straightforward modulated convolution below runs one instance at a time, computing the official
formula with plain loops and no batching tricks (no grouped convolution, no folded reshapes beyond the
official one). One full stage-2 train step of a CoIC model (encoder, contrastive loss, restoration
loss, backward) must give the same gradients, to 1e-6, whichever implementation runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from zoo.coic.modulation import ModulatedConv2d, ModulatedConvTranspose2d
from zoo.data.mixing import MixedPatches, training_sources
from zoo.training.config import TrainConfig
from zoo.training.trainer import Trainer


def _attention(layer, x_b: Tensor, z_b: Tensor, first: int, second: int, taps: int) -> Tensor:
    a = layer.modulator(torch.cat([z_b, x_b.mean(dim=(-2, -1))]))
    w1, w2, w3 = a[:first], a[first : first + second], a[first + second :]
    grid = torch.sigmoid(w2[:, None] + w1[None, :])  # second x first, as the official array
    return torch.softmax(grid[..., None] * w3, dim=-1) * taps


def straightforward_conv(self: ModulatedConv2d, x: Tensor) -> Tensor:
    z = self._active_z()
    if z is None:
        return self._conv_forward(x, self.weight, self.bias)
    kh, kw = self.kernel_size
    c_in_g = self.in_channels // self.groups
    outputs = []
    for b in range(x.shape[0]):
        att = _attention(self, x[b], z[b], self.out_channels, c_in_g, kh * kw)
        kernel = self.weight * att.reshape(self.out_channels, c_in_g, kh, kw)  # the official re-read
        outputs.append(self._conv_forward(x[b : b + 1], kernel, self.bias))
    return torch.cat(outputs)


def straightforward_transposed(self: ModulatedConvTranspose2d, x: Tensor, output_size=None) -> Tensor:
    z = self._active_z()
    kh, kw = self.kernel_size
    c_out_g = self.out_channels // self.groups
    padding = self._output_padding(x, output_size, list(self.stride), list(self.padding), list(self.kernel_size), 2, list(self.dilation))
    outputs = []
    for b in range(x.shape[0]):
        att = _attention(self, x[b], z[b], self.in_channels, c_out_g, kh * kw)
        kernel = self.weight * att.reshape(self.in_channels, c_out_g, kh, kw)
        outputs.append(
            F.conv_transpose2d(x[b : b + 1], kernel, self.bias, self.stride, self.padding, padding, self.groups, self.dilation)
        )
    return torch.cat(outputs)


def _gradients(tmp_path: Path, backbone: str) -> dict[str, Tensor]:
    cfg = TrainConfig(backbone, iters=10, stage1_iters=0, batch=2, crop=32, synth_count=4, synth_size=48)
    torch.manual_seed(0)
    trainer = Trainer(cfg, tmp_path)
    for opt in trainer.optimizers.values():
        opt.step = lambda *args, **kwargs: None  # keep this step's gradients readable
    trainer.step = 1  # stage 2 (it starts after step stage1_iters, as the official `<=` has it)
    data = MixedPatches(training_sources("synthmix", synth_count=4, synth_size=48), 32, contrastive=True)
    samples = [data[k] for k in range(2)]
    batch = {key: torch.stack([s[key] for s in samples]) for key in samples[0]}
    trainer.train_step(batch)
    return {name: p.grad.clone() for name, p in trainer.model.named_parameters() if p.grad is not None}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("backbone", ["brn", "dgunet", "drsformer"])  # DGUNet adds a transposed conv, DRSformer grouped ones
def test_optimised_step_gradients_equal_the_straightforward_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backbone: str
) -> None:
    fast = _gradients(tmp_path / "fast", backbone)
    monkeypatch.setattr(ModulatedConv2d, "forward", straightforward_conv)
    monkeypatch.setattr(ModulatedConvTranspose2d, "forward", straightforward_transposed)
    slow = _gradients(tmp_path / "slow", backbone)
    assert fast.keys() == slow.keys() and any("modulator" in name for name in fast)
    for name, grad in fast.items():
        torch.testing.assert_close(grad, slow[name], rtol=1e-5, atol=1e-6, msg=f"{backbone}: {name}")
