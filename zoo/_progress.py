"""What long-running library code needs from a progress display, and a silent stand-in.

Library layers (training, bench) report progress through this interface and never print; the CLI
passes a rich `Progress` (which satisfies it) from its one progress factory, `zoo.cli.progress`.
The caller owns the display (starts and stops it); library code only adds, updates and removes tasks.
"""

from __future__ import annotations

from typing import Any, Protocol


class ProgressLike(Protocol):
    def add_task(self, description: str, start: bool = True, total: float | None = 100.0, completed: int = 0,
                 visible: bool = True, **fields: Any) -> Any: ...

    def update(self, task_id: Any, *, advance: float | None = None, **fields: Any) -> None: ...

    def remove_task(self, task_id: Any) -> None: ...


class NullProgress:
    """A progress display that shows nothing (no terminal, tests, `--no-progress`)."""

    def add_task(self, description: str, start: bool = True, total: float | None = 100.0, completed: int = 0,
                 visible: bool = True, **fields: Any) -> int:
        return 0

    def update(self, task_id: Any, *, advance: float | None = None, **fields: Any) -> None:
        return None

    def remove_task(self, task_id: Any) -> None:
        return None
