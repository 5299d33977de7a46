"""Tiny train-step time of backbones, baseline and CoIC side by side, with the CoIC / baseline ratio.

One training step = forward + backward of a batch of 4 at 64 x 64 (the CoIC side includes the
encoder pass and the modulated kernels), as benchmarks/test_backbones.py times it. Baseline and CoIC
steps alternate round by round, so a busy machine slows both alike; the table gives medians of wall
seconds and of process CPU seconds (less sensitive to other processes on shared cores).

    python benchmarks/external_overhead.py                 # every spandrel-backed backbone
    python benchmarks/external_overhead.py brn nafnet      # any registered names
"""

from __future__ import annotations

import statistics
import sys
import time

import torch

import zoo


def _step(model: torch.nn.Module, x: torch.Tensor) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    model.zero_grad(set_to_none=True)
    model(x).square().mean().backward()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(name: str, rounds: int = 5, warmup: int = 1) -> dict[str, float]:
    torch.manual_seed(0)
    models = {coic: zoo.create_model(name, coic=coic).train() for coic in (False, True)}
    x = torch.rand(4, 3, 64, 64)
    times: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for r in range(warmup + rounds):
        for coic, model in models.items():
            t = _step(model, x)
            if r >= warmup:
                times[coic].append(t)
    out = {}
    for coic, label in ((False, "base"), (True, "coic")):
        out[f"{label}_wall"] = statistics.median(t[0] for t in times[coic])
        out[f"{label}_cpu"] = statistics.median(t[1] for t in times[coic])
    return out


def main(names: list[str]) -> None:
    names = names or [n for n in zoo.list_models() if zoo.model_info(n).source == "spandrel"]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; batch 4 x 3 x 64 x 64, fwd+bwd, median of 5")
    print("| backbone | source | licence | baseline s (wall / cpu) | CoIC s (wall / cpu) | CoIC / baseline (wall / cpu) |")
    print("|---|---|---|---|---|---|")
    for name in names:
        spec = zoo.model_info(name)
        m = measure(name)
        print(
            f"| {name} | {spec.source} | {spec.license} | {m['base_wall']:.3f} / {m['base_cpu']:.3f} "
            f"| {m['coic_wall']:.3f} / {m['coic_cpu']:.3f} "
            f"| {m['coic_wall'] / m['base_wall']:.2f} / {m['coic_cpu'] / m['base_cpu']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
