"""Evaluation: named metric protocols, inference (whole or tiled), per-dataset scores, complexity."""

from .evaluate import evaluate_set
from .inference import restore
from .metrics import DEFAULT_PROTOCOL, PROTOCOLS, get_protocol, list_protocols, niqe, score, score_batch

__all__ = [
    "DEFAULT_PROTOCOL",
    "PROTOCOLS",
    "evaluate_set",
    "get_protocol",
    "list_protocols",
    "niqe",
    "restore",
    "score",
    "score_batch",
]
