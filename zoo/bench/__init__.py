"""`zoo bench`: experiment matrices (schema, cells, shards) and the runner that fills the results store."""

from .matrix import Cell, Matrix, load_matrix, matrix_from_dict, parse_shard, shard_cells
from .runner import BenchReport, CellResult, cell_state, default_runs, plan, run_bench

__all__ = [
    "BenchReport",
    "Cell",
    "CellResult",
    "Matrix",
    "cell_state",
    "default_runs",
    "load_matrix",
    "matrix_from_dict",
    "parse_shard",
    "plan",
    "run_bench",
    "shard_cells",
]
