"""Hugging Face Hub: push a run as a model repository, pull one into the normal cache, verified.

What only the Hub needs lives here: where it is and whether to reach it (`settings.py`), the push
(`upload.py`), the verified pull (`download.py`) and the `README.md` model card a repository carries
(`card.py`). The pretrained table, the packaged folders and the official-checkpoint downloads stay
one level up: they name or fetch weights without the Hub, and only borrow its cache and offline switch.
"""

from .card import build_model_card
from .download import pull
from .settings import hub_cache, hub_offline
from .upload import push_run

__all__ = ["build_model_card", "hub_cache", "hub_offline", "pull", "push_run"]
