"""The one progress factory of the CLI: rich bars for training, bench matrices, deraining and writing data.

Library code reports through `zoo._progress.ProgressLike`; this module decides how it looks. A task
may carry a `loss` field (training), shown when present.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class SpeedColumn(ProgressColumn):
    """Iterations per second (rich's own speed column is for bytes)."""

    def render(self, task: Any) -> Text:
        return Text("-- it/s" if not task.speed else f"{task.speed:.2f} it/s")


class LossColumn(ProgressColumn):
    """The task's latest loss, for tasks that report one (training); blank for the others."""

    def render(self, task: Any) -> Text:
        loss = task.fields.get("loss")
        return Text("" if loss is None else f"loss {loss:.4f}")


def make_progress(enabled: bool = True, console: Console | None = None, transient: bool = False) -> Progress:
    """A rich `Progress` with the suite's columns; `enabled=False` shows nothing (pipes, `--no-progress`)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        SpeedColumn(),
        LossColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=transient,
        disable=not enabled,
    )
