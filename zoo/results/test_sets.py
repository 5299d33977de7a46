"""Which test set a store row's `eval_dataset` names, written once for every output that must tell.

A store row names its test set by a short name, and the names overlap: synthmix's procedural `ddn`
domain (a rain model after DDN-Data's) shares its name with the real DDN-Data test set. The row's
training data tells them apart, by the store's convention that a run trained on synthmix is scored on
synthmix's domains (`zoo train`, `zoo bench`). The model-index entries and the page's test-set filter
both read the rule here, so a synthmix score never passes for, or is filtered with, a real dataset's.
"""

from __future__ import annotations

from .. import defaults
from ..data.spec import REAL_DATASETS
from ..data.synth import DOMAINS


def is_procedural(name: str, train_data: str) -> bool:
    """Whether test set `name` of a run trained on `train_data` is one of synthmix's procedural domains."""
    return train_data == defaults.DATA and name in DOMAINS


def filter_key(name: str, train_data: str) -> str:
    """The page's filter value for test set `name`: `synthmix/ddn` for a procedural domain whose name a
    real dataset shares, else the name itself (a short name where it is already unambiguous)."""
    return f"{defaults.DATA}/{name}" if is_procedural(name, train_data) and name in REAL_DATASETS else name
