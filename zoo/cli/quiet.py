"""Warnings that libraries print on their own account, kept off a user's terminal (`zoo --debug` shows them).

A warning such as torch's `torch.meshgrid: in an upcoming release, it will be required to pass the
indexing argument` (raised inside spandrel's copies of the official architectures) says nothing the
user can act on, and printed ahead of a one-line error it buries the line. The CLI's entry point
ignores the warnings raised inside the libraries coic-zoo builds on, and the known ones that
libraries raise on their caller's behalf; coic-zoo's own warnings (a partial dataset, a note about
the data) still show.
"""

from __future__ import annotations

import re
import warnings

LIBRARIES = (
    "torch", "torchvision", "timm", "spandrel", "spandrel_extra_arches", "pyiqa", "umap", "pynndescent", "sklearn",
    "numba", "scipy", "numpy", "pandas", "matplotlib", "PIL", "huggingface_hub", "httpx2", "urllib3", "tensorboard",
    "safetensors",
)
"""Packages whose own warnings (raised in their modules) are hidden."""

MESSAGES = (
    r"torch\.meshgrid: in an upcoming release",
    r".*TypedStorage is deprecated",
    r".*torch\.jit\.script.*deprecated",
    r".*Importing from timm\.models\.layers is deprecated",
    r".*n_jobs value .* overridden to 1 by setting random_state",
)
"""Known library warnings attributed to the caller's module (raised with a stacklevel above 1)."""


def quiet_library_warnings() -> None:
    """Ignore, for the rest of the process, the warnings libraries raise on their own account."""
    module = r"(?:" + "|".join(re.escape(name) for name in LIBRARIES) + r")(?:\.|$)"
    warnings.filterwarnings("ignore", module=module)
    for message in MESSAGES:
        warnings.filterwarnings("ignore", message=message)
