"""`python -m zoo` runs the command line (as `torchrun -m zoo train ...` does for DDP)."""

from .cli.app import main

main()
