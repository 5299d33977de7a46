"""The package version and the provenance stamps every measured row and run carries: code and time."""

from __future__ import annotations

import subprocess
from datetime import datetime, timezone
from pathlib import Path

__version__ = "0.1.0"


def code_version() -> str:
    """Package version plus the git commit when running from a checkout."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{__version__}+{commit}" if commit else __version__


def utc_now() -> str:
    """The current time in UTC, ISO 8601 to the second (the `date` of a result row)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
