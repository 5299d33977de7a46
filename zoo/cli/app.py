"""The `zoo` command line: one typer app, each command group a thin module over the library.

Errors the user can fix (`ZooError`) are printed as one line on stderr with exit code 2, never as
a traceback; anything else is a bug and keeps its traceback. Command modules import the library
inside their commands, so `zoo --help` does not pay for torch.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from ..errors import ZooError
from . import data, derain, hub, models, results, train

app = typer.Typer(
    name="zoo",
    help="Deraining backbones, trained and compared with and without CoIC (ICLR 2024).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for _group in (models, train, data, results, hub, derain):
    _group.register(app)

err_console = Console(stderr=True)


def main() -> None:
    """Entry point of the `zoo` console script."""
    try:
        app()
    except ZooError as err:
        err_console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
