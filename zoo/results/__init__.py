"""Results: the store of measured and reported rows, leaderboards with statistics, renderers, plots."""

from .boards import Board, Leaderboard, build
from .store import DEFAULT_STORE, ResultsStore

__all__ = ["DEFAULT_STORE", "Board", "Leaderboard", "ResultsStore", "build"]
