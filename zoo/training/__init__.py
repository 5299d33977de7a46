"""Training: run settings, official recipes, losses, the two-stage trainer, DDP helpers, run folders."""

from .config import TrainConfig
from .evaluate_run import evaluate_run
from .trainer import Trainer, TrainingDiverged

__all__ = ["TrainConfig", "Trainer", "TrainingDiverged", "evaluate_run"]
