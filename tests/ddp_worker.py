"""Run under torchrun by test_training.py: train a few steps, then save this rank's weights."""

from __future__ import annotations

import sys
from pathlib import Path

from safetensors.torch import save_file

from zoo.training.config import TrainConfig
from zoo.training.trainer import Trainer

out = Path(sys.argv[1])
cfg = TrainConfig(
    "brn", coic=True, iters=4, stage1_iters=2, batch=4, crop=32, synth_count=8, synth_size=48, ckpt_every=100, log_every=1
)
trainer = Trainer(cfg, out / "run", overwrite=True)
trainer.fit()
state = {k: v.contiguous() for k, v in trainer.model.state_dict().items()}
save_file(state, str(out / f"rank{trainer.dist.rank}.safetensors"))
trainer.close()
