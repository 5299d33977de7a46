"""Where the Hub is, whether to reach it, and what names a repository there: read at call time.

Everything goes through `huggingface_hub` (never hand-written HTTP), so `HF_ENDPOINT`, `HF_HOME`,
`HF_HUB_CACHE`, `HF_HUB_OFFLINE` and the usual tokens apply. They are read when a function is
called, not when `huggingface_hub` was imported, so a script or test may set them at any time.
Push and pull both need them; the official-checkpoint downloads (`zoo.models.official`) keep their
files in the same cache and obey the same offline switch.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ...errors import ZooError
from ..pretrained import HF_HUB_PREFIX

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _is_true(value: str | None) -> bool:
    return value is not None and value.strip().upper() in {"1", "ON", "YES", "TRUE"}


def hub_offline() -> bool:
    """`HF_HUB_OFFLINE` as set now (falls back to the value huggingface_hub read at import)."""
    from huggingface_hub import constants

    if "HF_HUB_OFFLINE" in os.environ:
        return _is_true(os.environ["HF_HUB_OFFLINE"])
    return bool(constants.HF_HUB_OFFLINE)


def hub_endpoint(endpoint: str | None = None) -> str:
    """The Hub URL: `endpoint`, else `HF_ENDPOINT`, else huggingface_hub's default."""
    from huggingface_hub import constants

    return (endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def hub_cache() -> Path:
    """The Hugging Face hub cache folder: `HF_HUB_CACHE`, else `HF_HOME/hub`, else the default."""
    from huggingface_hub import constants

    for variable in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(variable):
            return Path(os.path.expandvars(os.environ[variable])).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.path.expandvars(os.environ["HF_HOME"])).expanduser() / "hub"
    return Path(constants.HF_HUB_CACHE)


def is_network_error(err: BaseException) -> bool:
    """Whether `err` says the Hub could not be reached (worth a retry), not that it refused the request."""
    module = type(err).__module__ or ""
    return isinstance(err, (ConnectionError, TimeoutError)) or module.startswith(("httpx", "requests", "urllib3"))


def check_repo_id(repo_id: str) -> str:
    """`repo_id` without its `hf-hub:` prefix, refused unless it is ORG/NAME as the Hub spells one."""
    repo_id = repo_id.removeprefix(HF_HUB_PREFIX)
    if not _REPO_ID.match(repo_id) or ".." in repo_id or repo_id.endswith((".git", ".")):
        raise ZooError(f"'{repo_id}' is not a Hub repository id; use ORG/NAME, e.g. coic-zoo/brn.coic_synthmix")
    return repo_id
