"""The `zoo` command line: the only layer that prints. Nothing in the library imports it."""

from .app import app, main

__all__ = ["app", "main"]
