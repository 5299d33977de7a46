"""Printing no-reference scores: the table of `zoo evaluate --data noref` and the lines of `zoo derain --score`."""

from __future__ import annotations

from typing import Any

from rich.console import Console


def print_noref_table(console: Console, metrics: dict[str, Any], title: str) -> None:
    """One row per test set that has no-reference scores: input and output of each metric."""
    from rich.table import Table

    from ..evaluation.metric_table import metric_info

    sets = {name: r for name, r in metrics["datasets"].items() if r.get("noref_metrics")}
    if not sets:
        return
    names = list(next(iter(sets.values()))["noref_metrics"])
    protocol = next(iter(sets.values())).get("noref_protocol", next(iter(sets.values()))["protocol"])
    table = Table(title=f"{title} — no reference, protocol {protocol}")
    table.add_column("dataset")
    table.add_column("n", justify="right")
    for name in names:
        better = "lower" if metric_info(name).lower_better else "higher"
        label = metric_info(name).label
        table.add_column(f"input {label}", justify="right")
        table.add_column(f"output {label} ({better} better)", justify="right")
    for dataset, r in sets.items():
        cells = [dataset, str(r["n_images"])]
        for name in names:
            digits = metric_info(name).digits
            cells += [f"{r[f'input_{name}']:.{digits}f}", f"{r[name]:.{digits}f}"]
        table.add_row(*cells)
    console.print(table)
    for name in names:
        console.print(f"{name}: {next(iter(sets.values()))['implementations'][name]}", style="dim", highlight=False)


def score_line(source: str, scores: dict[str, float], inputs: dict[str, float]) -> str:
    """`photo.png: NIQE 3.214 (input 4.020), PIQE ...` for one derained photo."""
    from ..evaluation.metric_table import metric_info

    parts = []
    for name, value in scores.items():
        info = metric_info(name)
        parts.append(f"{info.label} {value:.{info.digits}f} (input {inputs[name]:.{info.digits}f})")
    return f"{source}: " + ", ".join(parts)
