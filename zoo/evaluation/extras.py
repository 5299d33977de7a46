"""Optional dependencies of evaluation, imported on first use with a one-line install hint.

pyiqa (the engine of the no-reference metrics: NIQE, PIQE, entropy) is licensed PolyForm
Noncommercial 1.0.0, while coic-zoo is MIT, so it is not a core dependency: it comes with the `iqa`
extra (`pip install "coic-zoo[iqa]"`, part of `[dev]`). PSNR and SSIM never need it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import ZooError

IQA_HINT = 'pip install "coic-zoo[iqa]" (adds pyiqa, PolyForm Noncommercial 1.0.0)'


def require_pyiqa(what: str = "no-reference metrics") -> ModuleType:
    """The pyiqa module; without it, a `ZooError` saying in one line what to install."""
    try:
        return importlib.import_module("pyiqa")
    except ImportError:
        raise ZooError(f"{what} need pyiqa, which is not installed; {IQA_HINT}") from None


def has_pyiqa() -> bool:
    """Whether pyiqa can be imported, without importing it (the import takes seconds)."""
    import importlib.util
    import sys

    if "pyiqa" in sys.modules:
        return sys.modules["pyiqa"] is not None
    return importlib.util.find_spec("pyiqa") is not None
