"""Put the model folder of a packaged pretrained tag into the package: from a run, or from an official file.

    python tools/pack_pretrained.py RUN_DIR brn.coic_synthmix [--store leaderboards/pretrained]
    python tools/pack_pretrained.py --official ../shared/checkpoints/coic-official/brn_baseline.pth brn.official_baseline

An official file is converted exactly as `zoo.models.official.fetch_official` converts it on first
use (under its repository file name, so the bytes equal the table's), and the official repository's
MIT licence goes beside it as `LICENSE` (it must sit next to the file given).

Writes `zoo/models/assets/pretrained/<tag>/` (config.json, model.safetensors, encoder.safetensors for
CoIC, and metrics.json with the run's result rows, which the Hub model card reports), appends those
rows to the results store behind `leaderboards/pretrained.md`, and prints the sha256 of every model
file for the tag's entry in `zoo/models/pretrained.py`. The run's rows are renamed to the tag, the
name under which the published model is known; nothing else of them changes. Run by a maintainer
when a packaged model is retrained (never at test time); `tests/test_pretrained_table.py` then fails
until the table records the new hashes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zoo.evaluation.records import curve_rows, image_rows  # noqa: E402
from zoo.models.checkpoint import read_config, read_metrics  # noqa: E402
from zoo.models.convert import convert_official  # noqa: E402
from zoo.models.files import CONFIG_FILE, ENCODER_FILE, METRICS_FILE, MODEL_FILE, sha256_file  # noqa: E402
from zoo.models.packaged import PACKAGED_ROOT  # noqa: E402
from zoo.models.pretrained import pretrained_cfg  # noqa: E402
from zoo.results.store import ResultsStore  # noqa: E402


def pack(run_dir: Path, tag: str, store: Path) -> Path:
    """Copy `run_dir`'s model files and result rows into the package folder of `tag`; returns the folder."""
    cfg = pretrained_cfg(tag)
    config = read_config(run_dir)
    if config.get("backbone") != cfg.backbone or bool(config.get("coic")) != cfg.coic:
        raise SystemExit(f"{run_dir} holds {config.get('backbone')} coic={config.get('coic')}, not what {tag} describes")
    if not config.get("run", {}).get("complete"):
        raise SystemExit(f"{run_dir}: the run has not finished")
    metrics = read_metrics(run_dir) or {}
    rows = [{**row, "run": tag} for row in metrics.get("rows", [])]
    if not rows:
        raise SystemExit(f"{run_dir}: no {METRICS_FILE} rows; evaluate the run first (`zoo evaluate {run_dir}`)")
    target = PACKAGED_ROOT / tag
    target.mkdir(parents=True, exist_ok=True)
    for file in (CONFIG_FILE, MODEL_FILE, *((ENCODER_FILE,) if cfg.coic else ())):
        shutil.copyfile(run_dir / file, target / file)
    (target / METRICS_FILE).write_text(json.dumps({"rows": rows}, indent=1) + "\n")
    ResultsStore(store).append(rows, image_rows(rows, metrics.get("per_image") or {}), curve_rows(rows, metrics.get("curve") or []))
    return target


def pack_official(source: Path, tag: str) -> Path:
    """Convert the official checkpoint `source` into the package folder of `tag`, with the official licence."""
    cfg = pretrained_cfg(tag)
    model = next(item for item in cfg.official_files if item.role == "model")
    licence = source.parent / "LICENSE"
    if not licence.is_file():
        raise SystemExit(f"{licence}: the official repository's LICENSE must sit beside {source}")
    with tempfile.TemporaryDirectory() as work:
        named = Path(work) / Path(model.path).name  # the repository's file name: config.json records it
        shutil.copyfile(source, named)
        converted = Path(work) / "converted"
        convert_official(named, cfg.backbone, converted, model_args=dict(cfg.model_args) or None, baseline=cfg.method == "baseline")
        target = PACKAGED_ROOT / tag
        target.mkdir(parents=True, exist_ok=True)
        for file in cfg.files:
            shutil.copyfile(converted / file, target / file)
    shutil.copyfile(licence, target / "LICENSE")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="a run folder, or with --official an official .pth file")
    parser.add_argument("tag")
    parser.add_argument("--official", action="store_true", help="SOURCE is an official CoIC checkpoint to convert")
    parser.add_argument("--store", type=Path, default=Path("leaderboards/pretrained"))
    args = parser.parse_args()
    target = pack_official(args.source, args.tag) if args.official else pack(args.source, args.tag, args.store)
    print(f"wrote {target}; record in zoo/models/pretrained.py:")
    for path in sorted(target.iterdir()):
        if path.name not in (METRICS_FILE, "LICENSE"):
            print(f'    "{path.name}": "{sha256_file(path)}",')


if __name__ == "__main__":
    main()
