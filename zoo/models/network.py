"""Every network call of coic-zoo has a timeout and a bounded number of retries, both settable.

`ZOO_NETWORK_TIMEOUT` (seconds, default 30) bounds each request: connecting, and each wait for
data. `ZOO_NETWORK_RETRIES` (default 2) is how many times a request that timed out or could not
connect is tried again, after a short pause, before the command gives up with one line naming the
URL and what to do without a network. They apply to Hub pulls and pushes (`zoo.models.hub`) and to
official-checkpoint downloads (`zoo.models.official`), and are read at each call.

huggingface_hub makes some requests with no timeout at all (its shared HTTP client has none, and
e.g. the repository lookup of `snapshot_download` passes `timeout=None`), so a Hub that accepts a
connection and never answers would hang `zoo pull` for ever. `bound_hub_requests` adds a request
hook to that shared client which gives every unbounded part of a request's timeout the value of
`ZOO_NETWORK_TIMEOUT`; timeouts huggingface_hub sets itself (`HF_HUB_DOWNLOAD_TIMEOUT`,
`HF_HUB_ETAG_TIMEOUT`) are left as they are.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import ZooError

TIMEOUT_ENV = "ZOO_NETWORK_TIMEOUT"
RETRIES_ENV = "ZOO_NETWORK_RETRIES"
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_RETRIES = 2
FIRST_PAUSE_S = 0.25
MAX_PAUSE_S = 4.0

T = TypeVar("T")


def network_timeout() -> float:
    """Seconds each request may wait (`ZOO_NETWORK_TIMEOUT`, default 30)."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value != value or value == float("inf"):
        raise ZooError(f"{TIMEOUT_ENV}='{raw}' must be a number of seconds greater than 0 (default {DEFAULT_TIMEOUT_S:g})")
    return value


def network_retries() -> int:
    """How many times a failed request is tried again (`ZOO_NETWORK_RETRIES`, default 2)."""
    raw = os.environ.get(RETRIES_ENV, "").strip()
    if not raw:
        return DEFAULT_RETRIES
    if not raw.isdigit() or int(raw) > 10:
        raise ZooError(f"{RETRIES_ENV}='{raw}' must be a whole number from 0 to 10 (default {DEFAULT_RETRIES})")
    return int(raw)


def attempts_text() -> str:
    """`3 attempts of 30 s each (ZOO_NETWORK_TIMEOUT, ZOO_NETWORK_RETRIES)`, for error messages."""
    attempts = network_retries() + 1
    each = "s of {:g} s each" if attempts > 1 else " of {:g} s"
    return f"{attempts} attempt{each.format(network_timeout())} ({TIMEOUT_ENV}, {RETRIES_ENV})"


def with_retries(call: Callable[[], T], transient: Callable[[BaseException], bool]) -> T:
    """`call()`, tried again up to `network_retries()` times while it raises an error `transient` accepts.

    The pause between tries doubles from `FIRST_PAUSE_S` (or a tenth of the timeout, if shorter) up to
    `MAX_PAUSE_S`; the last error is raised.
    """
    retries = network_retries()
    pause = min(FIRST_PAUSE_S, network_timeout() / 10)
    for attempt in range(retries + 1):
        try:
            return call()
        except Exception as err:
            if attempt == retries or not transient(err):
                raise
            time.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE_S)
    raise AssertionError("unreachable")


def _bound_timeout(request: Any) -> None:
    """httpx request hook: every unbounded part of the request's timeout becomes `network_timeout()`."""
    limit = network_timeout()
    timeout = dict(request.extensions.get("timeout") or {})
    for part in ("connect", "read", "write", "pool"):
        if timeout.get(part) is None:
            timeout[part] = limit
    request.extensions = {**request.extensions, "timeout": timeout}


def bound_hub_requests() -> None:
    """Make sure huggingface_hub's shared HTTP client bounds every request (idempotent; a new client gets it again)."""
    from huggingface_hub import get_session

    hooks = get_session().event_hooks
    if _bound_timeout not in hooks.get("request", []):
        hooks["request"] = [*hooks.get("request", []), _bound_timeout]
        get_session().event_hooks = hooks


def is_timeout(err: BaseException) -> bool:
    """Whether `err`, or an error it was raised from, is a timeout."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TimeoutError) or "Timeout" in type(current).__name__:
            return True
        current = current.__cause__ or current.__context__
    return False
