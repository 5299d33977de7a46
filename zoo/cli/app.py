"""The `zoo` command line: one typer app, each command group a thin module over the library.

Errors the user can fix (`ZooError`, and click's usage errors such as a mistyped option value) are
printed as one line on stderr, never as a traceback; the exit status is 2 for bad input (the
error's `exit_code` says otherwise, e.g. 1 for a full disk). `zoo --debug COMMAND ...` shows the
traceback of such an error too. Anything else is a bug and keeps its traceback. Command modules
import the library inside their commands, so `zoo --help` does not pay for torch.
"""

from __future__ import annotations

import sys
import traceback

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import ZooError
from . import analyze, bench, data, derain, export, hub, leaderboard, models, score, train

app = typer.Typer(
    name="zoo",
    help="Deraining backbones, trained and compared with and without CoIC (ICLR 2024).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for _group in (models, train, data, bench, leaderboard, hub, derain, score, export, analyze):
    _group.register(app)

err_console = Console(stderr=True)
_options = {"debug": False}
# click's usage-error class, found through typer's public BadParameter: typer vendors click from 0.2x on.
_UsageError = next(cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "UsageError")


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback of an error, not only its one line."),
) -> None:
    # `main` takes --debug out of the arguments wherever it stands; this option documents it in --help.
    _options["debug"] = _options["debug"] or debug


def _error_line(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def _usage_line(err: Exception) -> str:
    """click's usage error as one line naming the option and where the command's help is."""
    message = " ".join(err.format_message().split())  # type: ignore[attr-defined]
    ctx = getattr(err, "ctx", None)
    command = ctx.command_path if ctx is not None else "zoo"
    return f"{message} (see `{command} --help`)"


def _split_debug(args: list[str]) -> tuple[list[str], bool]:
    """`--debug` anywhere before a `--` (`zoo train brn --debug` too), taken out of the arguments."""
    end = args.index("--") if "--" in args else len(args)
    head = [a for a in args[:end] if a != "--debug"]
    return head + args[end:], len(head) < end


def main() -> None:
    """Entry point of the `zoo` console script."""
    args, _options["debug"] = _split_debug(sys.argv[1:])
    if not _options["debug"]:
        from .quiet import quiet_library_warnings

        quiet_library_warnings()  # libraries' own warnings never bury a one-line error; --debug shows them
    try:
        code = app(args=args, prog_name="zoo", standalone_mode=False)
    except _UsageError as err:
        if type(err).__name__ == "NoArgsIsHelpError":
            sys.exit(2)  # the help was printed already
        _error_line(_usage_line(err))
        sys.exit(2)
    except typer.Abort:
        _error_line("aborted")
        sys.exit(1)
    except ZooError as err:
        if _options["debug"]:
            traceback.print_exc()
        _error_line(str(err))
        sys.exit(getattr(err, "exit_code", 2))
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
