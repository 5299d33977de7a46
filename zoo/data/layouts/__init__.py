"""On-disk layouts of the deraining datasets (Rain200L/H, Rain800, DID, DDN, SPA, paired folders).

`table` holds the layouts (names, counts, markers) and opens a split; `naming` and `scanners` form
the pairs from a listing; `pairs` reads them; `check` decodes everything and reports; `detect` says
which layout a folder is in; `declared` reads the `manifest.csv` of a folder that lists its own pairs.
"""

from .check import CheckReport, check_dataset
from .declared import MANIFEST, declared_pairs, read_manifest
from .detect import Found, detect_layout, plan_check
from .naming import RAIN200_NAMING, guess_orientation
from .pairs import ORIENTATIONS, SPLITS, Pair, PairedImages, read_pair
from .table import dataset_names, find_datasets, open_dataset

__all__ = [
    "MANIFEST",
    "ORIENTATIONS",
    "RAIN200_NAMING",
    "SPLITS",
    "CheckReport",
    "Found",
    "Pair",
    "PairedImages",
    "check_dataset",
    "dataset_names",
    "declared_pairs",
    "detect_layout",
    "find_datasets",
    "guess_orientation",
    "open_dataset",
    "plan_check",
    "read_manifest",
    "read_pair",
]
