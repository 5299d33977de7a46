"""The `zoo` command line: one typer app, each command a thin layer over the library.

Errors the user can fix (`ZooError`) are printed as one line on stderr with a non-zero exit code,
never as a traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from .cli_models import register as register_models
from .errors import ZooError

app = typer.Typer(
    name="zoo",
    help="Deraining backbones, trained and compared with and without CoIC (ICLR 2024).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
register_models(app)

for _name in ("cli_train", "cli_data", "cli_results", "cli_hub"):
    try:
        _module = __import__(f"zoo.{_name}", fromlist=["register"])
    except ModuleNotFoundError as _err:
        if _err.name != f"zoo.{_name}":
            raise
    else:
        _module.register(app)

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
