"""The model card (`README.md`) of a model folder: metadata for the Hub, usage, results, provenance.

Built with huggingface_hub's `ModelCard`/`ModelCardData`, offline, from the folder's `config.json`
and `metrics.json`: the `model-index` carries one image-to-image result per measured row, each
metric named with its protocol.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from ...catalog import model_info
from ...errors import ZooError
from ..checkpoint import read_config, read_metrics
from ..files import ENCODER_FILE, MODEL_FILES, sha256_file
from ..pretrained import COIC_BIBTEX, find_by_repo

LIBRARY_NAME = "coic-zoo"
# Licence ids the Hub's model-card metadata accepts that our weights or architectures use.
HUB_LICENSES = frozenset({"mit", "apache-2.0", "bsd-3-clause", "bsd-2-clause", "cc-by-4.0", "cc-by-nc-4.0", "gpl-3.0", "other"})


def read_rows(run_dir: str | Path) -> list[dict[str, Any]]:
    """The result rows of `run_dir/metrics.json`; none when the folder was never evaluated."""
    return (read_metrics(Path(run_dir)) or {}).get("rows", [])


def _metric_label(row: dict[str, Any]) -> str:
    metric = str(row.get("metric", "")).upper()
    return f"{metric} ({row['protocol']})" if row.get("protocol") else metric


def _usable(row: dict[str, Any]) -> bool:
    value = row.get("value")
    return (
        row.get("source", "measured") == "measured"
        and bool(row.get("eval_dataset"))
        and bool(row.get("metric"))
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def eval_results(rows: list[dict[str, Any]]) -> list[Any]:
    """`EvalResult`s (image-to-image, one per measured row) for the card's `model-index`."""
    from huggingface_hub import EvalResult

    return [
        EvalResult(
            task_type="image-to-image",
            task_name="Image Deraining",
            dataset_type=str(row["eval_dataset"]),
            dataset_name=str(row["eval_dataset"]),
            metric_type=str(row["metric"]).lower(),
            metric_name=_metric_label(row),
            metric_value=float(row["value"]),
        )
        for row in rows
        if _usable(row)
    ]


def _datasets(text: str) -> list[str]:
    return [part.strip().lower() for part in re.split(r"[,+]", text) if part.strip()]


def build_model_card(run_dir: str | Path, repo_id: str | None = None) -> Any:
    """The `ModelCard` (README.md) of the model folder `run_dir`, built offline.

    Metadata: library `coic-zoo`, licence, tags, training datasets and a `model-index` with one
    image-to-image result per measured row of `metrics.json`. Body: usage, results, file hashes,
    provenance and the CoIC citation. `repo_id` goes into the usage snippet (a local path otherwise).
    """
    from huggingface_hub import ModelCard, ModelCardData

    run_dir = Path(run_dir)
    config = read_config(run_dir)
    rows = read_rows(run_dir)
    backbone = str(config["backbone"])
    coic = bool(config.get("coic", False))
    cfg = find_by_repo(repo_id) if repo_id else None
    source = config.get("source") if isinstance(config.get("source"), dict) else {}

    train_data = sorted({str(r["train_data"]) for r in rows if r.get("train_data")})
    if not train_data:
        train = config.get("train") if isinstance(config.get("train"), dict) else {}
        for candidate in (config.get("train_data"), train.get("data"), cfg.train_data if cfg else None):
            if isinstance(candidate, str) and candidate:
                train_data = [candidate]
                break
    datasets = sorted({d for text in train_data for d in _datasets(text)})
    # `licence` is how model folders written before 2026-12-07 spelled the key; `license` everywhere since
    license_id = str(cfg.license if cfg else config.get("license") or source.get("license") or source.get("licence") or "mit").lower()
    name = repo_id.split("/")[-1] if repo_id else str(next((r["run"] for r in rows if r.get("run")), run_dir.name))
    results = eval_results(rows)
    metrics = sorted({str(r["metric"]).lower() for r in rows if _usable(r)})

    license_name = None
    if license_id not in HUB_LICENSES:  # the Hub's metadata takes its own ids; others go in as "other"
        license_id, license_name = "other", re.sub(r"[^a-z0-9.-]+", "-", license_id).strip("-")
    data = ModelCardData(
        library_name=LIBRARY_NAME,
        license=license_id,
        license_name=license_name,
        pipeline_tag="image-to-image",
        tags=["deraining", "image-restoration", "coic", backbone, "coic-zoo", *([] if coic else ["baseline"])],
        datasets=datasets or None,
        metrics=metrics or None,
        model_name=name,
        eval_results=results or None,
    )

    try:
        spec = model_info(backbone)
        backbone_paper = spec.paper
        architecture = (
            f"- Architecture code: {'spandrel' if spec.source == 'spandrel' else 'coic-zoo'}'s implementation"
            f"{', upstream ' + spec.code if spec.code else ''}; architecture licence: {spec.license}"
        )
    except ZooError:
        backbone_paper, architecture = "", ""
    method = (
        "with CoIC (context-based instance-level modulation + rain-/detail-aware contrastive learning)"
        if coic
        else "without CoIC (baseline)"
    )
    load_name = f"hf-hub:{repo_id}" if repo_id else f"local-dir:{run_dir}"
    lines = [
        f"# {name}",
        "",
        (
            f"`{backbone}` ({config.get('config', 'tiny')} config) for single-image deraining, {method}, "
            f"trained on {', '.join(train_data) or 'unrecorded data'}. Published with coic-zoo, a deraining "
            "benchmark and model zoo built around CoIC (official code: https://github.com/Schizophreni/CoIC)."
        ),
        "",
        "## Usage",
        "",
        "```python",
        "import torch, zoo",
        f'model = zoo.create_model("{load_name}")  # eval mode, weights checked by sha256',
        "rainy = torch.rand(1, 3, 128, 128)  # RGB in [0, 1]",
        "with torch.no_grad():",
        "    restored = model(rainy).clamp(0, 1)",
        "```",
        "",
        "```bash",
        f"zoo derain {load_name} photo.jpg --out derained/",
        "```",
    ]
    if coic and not (run_dir / ENCODER_FILE).is_file():
        lines += ["", "This folder has no `encoder.safetensors`: pass the embedding yourself, `model(x, z=z)`."]
    usable = [r for r in rows if _usable(r)]
    if usable:
        lines += [
            "",
            "## Results (measured by coic-zoo)",
            "",
            "| eval dataset | metric | value | images | iterations | seed |",
            "|---|---|---|---|---|---|",
        ]
        for r in usable:
            lines.append(
                f"| {r['eval_dataset']} | {_metric_label(r)} | {float(r['value']):.4f} | {r.get('n_images', '')} "
                f"| {r.get('iterations', '')} | {r.get('seed', '')} |"
            )
    lines += ["", "## Files", "", "| file | bytes | sha256 |", "|---|---|---|"]
    for file in MODEL_FILES:
        path = run_dir / file
        if path.is_file():
            lines.append(f"| `{file}` | {path.stat().st_size} | `{sha256_file(path)}` |")
    provenance = [f"- Backbone paper: {backbone_paper}"] if backbone_paper else []
    if architecture:
        provenance.append(architecture)
    if cfg and cfg.source:
        provenance.append(f"- Source: {cfg.source}")
    elif source:
        provenance.append(
            f"- Source: {source.get('kind', '')} {source.get('repo', '')} {source.get('file', '')}".rstrip()
        )
        if source.get("note"):
            provenance.append(f"- Note: {source['note']}")
    provenance.append(f"- Licence: {license_id}" + (f" ({license_name})" if license_name else ""))
    lines += ["", "## Provenance", "", *provenance]
    lines += ["", "## Citation", "", "```bibtex", COIC_BIBTEX, "```", ""]
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(lines))
