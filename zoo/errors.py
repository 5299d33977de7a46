"""Errors that a user can act on.

Every error the suite raises for bad input derives from `ZooError`. Its message is one line that names
the thing at fault (a file, an option, a model name) and says what to do. The CLI prints that line and
exits non-zero instead of showing a traceback, so keep messages self-contained.
"""

from __future__ import annotations


class ZooError(Exception):
    """Base class of user-facing errors; the message is shown to the user as is.

    `exit_code` is the CLI's exit status: 2 (bad input, a usage error) unless a subclass says otherwise.
    """

    exit_code = 2


class UnknownNameError(ZooError, KeyError):
    """A model, config, dataset, metric or tag name that the suite does not know."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class CheckpointError(ZooError):
    """A checkpoint that cannot be read, or that belongs to another model."""


class DatasetError(ZooError):
    """A dataset folder that is missing, incomplete or malformed."""


class DiskFullError(ZooError):
    """A write ran out of space; the previous file was kept and the partial one removed."""

    exit_code = 1
