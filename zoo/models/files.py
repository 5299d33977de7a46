"""The file names of a model folder and of a run folder: one home for each.

A model folder (a run, a converted official checkpoint, a Hub snapshot) holds `config.json`,
`model.safetensors` and, for CoIC, `encoder.safetensors`; a Hub repository adds its `README.md`
model card; a run adds `metrics.json` (what `zoo evaluate` measured), `train_state.pt` (everything
`--resume` needs: weights, optimiser, step, random states) and, with `--eval-every`, `curve.json`
(the learning curve). Every layer that opens one of them names it from here, so a file is never
looked for under two spellings.
"""

import hashlib
from pathlib import Path

CONFIG_FILE = "config.json"
MODEL_FILE = "model.safetensors"
ENCODER_FILE = "encoder.safetensors"
README_FILE = "README.md"
METRICS_FILE = "metrics.json"
STATE_FILE = "train_state.pt"
CURVE_FILE = "curve.json"

MODEL_FILES = (CONFIG_FILE, MODEL_FILE, ENCODER_FILE)


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB chunks (model files are large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def git_blob_sha1(path: Path) -> str:
    """The id git gives a file's content (`git hash-object`): sha1 of `blob <size>\\0` then the bytes.

    The official repository's tree records it for every file, and the Hub names a file kept in git
    (not LFS, e.g. config.json) by it, so it checks files where no sha256 was ever taken.
    """
    digest = hashlib.sha1(f"blob {Path(path).stat().st_size}\0".encode(), usedforsecurity=False)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
