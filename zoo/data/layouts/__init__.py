"""On-disk layouts of the deraining datasets (Rain200L/H, Rain800, DID, DDN, SPA, paired folders).

`table` holds the layouts (names, counts, markers) and opens a split; `naming` and `scanners` form
the pairs from a listing; `pairs` reads them; `check` decodes everything and reports.
"""

from .check import CheckReport, check_dataset
from .naming import guess_orientation
from .pairs import ORIENTATIONS, SPLITS, Pair, PairedImages, read_pair
from .table import dataset_names, find_datasets, list_layouts, open_dataset

__all__ = [
    "ORIENTATIONS",
    "SPLITS",
    "CheckReport",
    "Pair",
    "PairedImages",
    "check_dataset",
    "dataset_names",
    "find_datasets",
    "guess_orientation",
    "list_layouts",
    "open_dataset",
    "read_pair",
]
