"""`python -m zoo ...` runs the CLI (and is what `torchrun -m zoo train ...` calls)."""

from .cli import main

main()
