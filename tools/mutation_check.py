"""Mutation check: every curated one-line break of CoIC's core must make a named test fail.

Why: a CoIC whose encoder stops learning still trains a fine deraining backbone, so the planted bug
`loss = restoration + 0.0 * contrast` once passed the whole test suite (issue 30). Each mutation
below is such a break, an exact (file, old text, new text) replacement; the check copies zoo/,
tests/ and pyproject.toml to a temporary folder, applies it there and runs the tests that should
catch it. A mutation the tests let pass "survives", and the check exits 1.

The copy's `zoo` must be the one imported: the venv's editable install resolves `zoo` through a
meta-path finder that setuptools appends after the path-based one, so PYTHONPATH=<copy> and
cwd=<copy> put the copy first. Two checks run before any mutation: the untouched copy passes every
named test (so a failure means the mutation), and a canary that breaks the copy's `zoo/__init__.py`
fails them (so the copy is what runs). An old text that no longer occurs exactly once in the
source stops the check before anything runs (exit 2): the list must be kept in step with the code.

Not part of the test command; run `python tools/mutation_check.py` (`--list`, `--only NAME`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COPIED = ("zoo", "tests", "pyproject.toml")  # what the tests import and read; never .venv, runs, .git
MAX_WORKERS = 2  # the machine has 2 cores; each pytest runs torch on one thread (tests/conftest.py)
SIGNAL = "tests/test_training_signal.py"
CANARY = '\nraise ImportError("mutation_check canary: the copy\'s zoo was imported")\n'


@dataclass(frozen=True)
class Mutation:
    """Replace `old` (which must occur exactly once in `path`) by `new`; `tests` must then fail."""

    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    what: str


MUTATIONS: tuple[Mutation, ...] = (
    Mutation(
        "contrast-term-dropped", "zoo/training/trainer.py",
        "loss = restoration + (cfg.contrast_weight or 0.0) * contrast.float()",
        "loss = restoration + 0.0 * contrast.float()",
        (SIGNAL,), "issue 30's planted bug: the InfoNCE term multiplied by 0.0",
    ),
    Mutation(
        "contrast-weight-ignored", "zoo/training/trainer.py",
        "loss = restoration + (cfg.contrast_weight or 0.0) * contrast.float()",
        "loss = restoration + 0.2 * contrast.float()",
        (SIGNAL,), "the recipe default weight whatever contrast_weight says",
    ),
    Mutation(
        "restoration-term-dropped", "zoo/training/trainer.py",
        "loss = restoration + (cfg.contrast_weight or 0.0) * contrast.float()",
        "loss = (cfg.contrast_weight or 0.0) * contrast.float()",
        (SIGNAL,), "the loss is the InfoNCE term alone",
    ),
    Mutation(
        "momentum-rule", "zoo/coic/encoder.py",
        "key_param.mul_(self.momentum).add_(query_param.detach(), alpha=1.0 - self.momentum)",
        "key_param.mul_(self.momentum).add_(query_param.detach(), alpha=self.momentum)",
        (SIGNAL,), "k = m*k + m*q instead of m*k + (1-m)*q",
    ),
    Mutation(
        "momentum-not-configured", "zoo/training/trainer.py",
        "self.model.key_encoder.momentum = float(self.cfg.momentum)",
        "self.model.key_encoder.momentum = 0.999",
        (SIGNAL,), "the run's momentum setting never reaches the key encoder",
    ),
    Mutation(
        "key-never-updated", "zoo/coic/contrastive.py",
        "        if update_key:",
        "        if not update_key:",
        (SIGNAL,), "the key encoder skips its momentum step",
    ),
    Mutation(
        "rain-negative-most-similar", "zoo/coic/contrastive.py",
        "return pool[distance.argmax(dim=1)]",
        "return pool[distance.argmin(dim=1)]",
        ("tests/test_contrastive.py",), "the rain-aware negative carries the most similar rain (its own)",
    ),
    Mutation(
        "positive-not-flipped", "zoo/coic/contrastive.py",
        "key = random_flips(rainy_full, generator, per_image)",
        "key = rainy_full.clone()",
        (SIGNAL,), "the positive key is an exact copy of the query",
    ),
    Mutation(
        "temperature-inverted", "zoo/coic/contrastive.py",
        "return torch.cat([positive, negative], dim=1) / temperature",
        "return torch.cat([positive, negative], dim=1) * temperature",
        ("tests/test_contrastive.py",), "logits multiplied by the temperature instead of divided",
    ),
    Mutation(
        "temperature-not-configured", "zoo/training/trainer.py",
        "self.model.encoder, self.model.key_encoder, views, cfg.temperature, update_key=update_key,",
        "self.model.encoder, self.model.key_encoder, views, 1.0, update_key=update_key,",
        (SIGNAL,), "the step ignores the run's temperature",
    ),
    Mutation(
        "stage-switch-early", "zoo/training/trainer.py",
        "stage2 = self.coic and self.step > cfg.stage1_iters",
        "stage2 = self.coic and self.step >= cfg.stage1_iters",
        (SIGNAL,), "stage 2 starts at step stage1_iters, not after it (official `<=`)",
    ),
    Mutation(
        "modulation-on-in-stage-1", "zoo/training/trainer.py",
        "self.model.modulation = stage2",
        "self.model.modulation = True",
        (SIGNAL,), "stage 1 trains the modulation and encoder through z",
    ),
    Mutation(
        "baseline-builds-coic", "zoo/training/trainer.py",
        "self.cfg.backbone, coic=self.cfg.coic, config=self.cfg.config, **self.cfg.model",
        "self.cfg.backbone, coic=True, config=self.cfg.config, **self.cfg.model",
        (SIGNAL,), "a baseline run is built (and trained) with CoIC",
    ),
    Mutation(
        "encoder-not-optimised", "zoo/training/optim.py",
        "coic_params = [p for p in backbone.parameters() if id(p) in extra_ids] + list(model.encoder.parameters())",
        "coic_params = [p for p in backbone.parameters() if id(p) in extra_ids]",
        (SIGNAL,), "the query encoder gets gradients but no optimiser step",
    ),
    Mutation(
        "z-detached", "zoo/coic/contrastive.py",
        "return F.cross_entropy(logits, labels), z",
        "return F.cross_entropy(logits, labels), z.detach()",
        (SIGNAL,), "the restoration loss no longer reaches the encoder through z",
    ),
    Mutation(
        "z-not-from-query", "zoo/training/trainer.py",
        "outputs = self._outputs(rainy, z)",
        "outputs = self._outputs(rainy, None)",
        (SIGNAL,), "training z recomputed from the patch instead of the InfoNCE query's",
    ),
    Mutation(
        "z-encoders-swapped", "zoo/coic/model.py",
        "encoder = self.encoder if self.training else self.key_encoder",
        "encoder = self.key_encoder if self.training else self.encoder",
        (SIGNAL,), "z from the key encoder while training, the query encoder at test time",
    ),
    Mutation(
        "modulation-layout", "zoo/coic/modulation.py",
        '    if layout == "official":',
        '    if layout == "corrected":',
        ("tests/test_kernel_and_tiles.py",), "the official C_in x C_out re-read swapped for the transpose",
    ),
    Mutation(
        "tile-merge-unweighted", "zoo/evaluation/inference.py",
        "out[:, :, top : top + tile, left : left + tile] += _run(model, crop, z) * weight",
        "out[:, :, top : top + tile, left : left + tile] += _run(model, crop, z)",
        ("tests/test_kernel_and_tiles.py",), "tiles summed without the centre weights they are divided by",
    ),
    Mutation(
        "metric-quantisation-truncates", "zoo/data/images.py",
        "return torch.floor(scaled.to(torch.float64) + 0.5)",
        "return torch.floor(scaled.to(torch.float64))",
        ("tests/test_metrics.py::test_protocol_matches_reference_formula",), "uint8 quantisation truncates instead of rounding",
    ),
    Mutation(
        "store-oldest-wins", "zoo/results/store.py",
        'return table.drop_duplicates(subset=list(KEY), keep="last").reset_index(drop=True)',
        'return table.drop_duplicates(subset=list(KEY), keep="first").reset_index(drop=True)',
        ("tests/test_results.py",), "a re-run's row is shadowed by the first one stored",
    ),
    Mutation(
        "t-interval-degrees-of-freedom", "zoo/results/stats.py",
        "stats.t.ppf(0.5 + level / 2, x.size - 1)",
        "stats.t.ppf(0.5 + level / 2, x.size)",
        ("tests/test_stats.py",), "the t quantile with n instead of n - 1 degrees of freedom",
    ),
)


@dataclass(frozen=True)
class Outcome:
    name: str
    status: str  # killed, SURVIVED, timeout (counts as killed), or error (the harness failed)
    seconds: float
    killer: str
    output: str

    @property
    def ok(self) -> bool:
        return self.status in ("killed", "timeout")


def stale(mutations: Iterable[Mutation], root: Path = REPO) -> list[str]:
    """Why each mutation no longer fits the source (its old text must occur exactly once); empty when all fit."""
    problems = []
    for m in mutations:
        path = root / m.path
        count = path.read_text(encoding="utf-8").count(m.old) if path.is_file() else 0
        if count != 1:
            problems.append(f"{m.name}: {m.path} holds {count} copies of {m.old!r}, not exactly one")
        if m.old == m.new:
            problems.append(f"{m.name}: old and new text are the same")
    return problems


def make_copy(dest: Path, root: Path = REPO) -> Path:
    """The parts of the repository the tests need, copied to `dest` (caches left out)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for name in COPIED:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=ignore)
        else:
            shutil.copy2(source, dest / name)
    return dest


def _env(copy: Path) -> dict[str, str]:
    """The copy first on the import path; one thread per pytest, as two run side by side on 2 cores."""
    existing = os.environ.get("PYTHONPATH")
    path = str(copy) if not existing else f"{copy}{os.pathsep}{existing}"
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def run_pytest(copy: Path, tests: Sequence[str], python: str, timeout: float) -> tuple[int | None, str, float]:
    """(exit code or None on timeout, output, seconds) of pytest on `tests`, run in `copy`."""
    command = [python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=copy, env=_env(copy), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as err:
        output = (err.stdout or b"").decode() if isinstance(err.stdout, bytes) else (err.stdout or "")
        return None, output, time.perf_counter() - start
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - start


def first_failure(output: str) -> str:
    """The first failed or erroring test of pytest's short summary (`-ra`), without its message."""
    for line in output.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            return line.split(" - ")[0].split(" ", 1)[1]
    return ""


def in_copy(name: str, tests: Sequence[str], python: str, timeout: float, change: Callable[[Path], None]) -> Outcome:
    """Copy the repository, apply `change` to the copy, run `tests` there and classify the result."""
    with tempfile.TemporaryDirectory(prefix=f"zoo-mutation-{name}-") as folder:
        copy = make_copy(Path(folder))
        change(copy)
        code, output, seconds = run_pytest(copy, tests, python, timeout)
    if code is None:
        return Outcome(name, "timeout", seconds, f"(no result in {timeout:.0f} s)", output)
    if code == 0:
        return Outcome(name, "SURVIVED", seconds, "", output)
    if code in (1, 2):  # 1: a test failed; 2: collection failed, e.g. the mutated module no longer imports
        return Outcome(name, "killed", seconds, first_failure(output) or f"pytest exit {code}", output)
    return Outcome(name, "error", seconds, f"pytest exit {code}", output)


def mutate(mutation: Mutation) -> Callable[[Path], None]:
    def change(copy: Path) -> None:
        path = copy / mutation.path
        text = path.read_text(encoding="utf-8")
        if text.count(mutation.old) != 1:
            raise RuntimeError(f"{mutation.name}: the copy of {mutation.path} does not hold the old text exactly once")
        path.write_text(text.replace(mutation.old, mutation.new), encoding="utf-8")

    return change


def break_package(copy: Path) -> None:
    init = copy / "zoo" / "__init__.py"
    init.write_text(init.read_text(encoding="utf-8") + CANARY, encoding="utf-8")  # after `from __future__`


def check_copy_is_imported(python: str) -> str:
    """Where `zoo` resolves in a fresh copy under the check's environment; raises unless it is the copy."""
    with tempfile.TemporaryDirectory(prefix="zoo-mutation-where-") as folder:
        copy = make_copy(Path(folder))
        code = "import importlib.util; print(importlib.util.find_spec('zoo').origin)"
        done = subprocess.run([python, "-c", code], cwd=copy, env=_env(copy), capture_output=True, text=True, timeout=120)
        origin = done.stdout.strip()
        if done.returncode != 0 or not Path(origin).resolve().is_relative_to(copy.resolve()):
            raise SystemExit(f"mutation_check: `import zoo` resolves to {origin or done.stderr.strip()}, not to the copy {copy}")
    return origin


def table(outcomes: Sequence[Outcome], mutations: dict[str, Mutation]) -> str:
    lines = ["| mutation | file | result | failing test | time |", "|---|---|---|---|---|"]
    for o in outcomes:
        lines.append(f"| {o.name} | {mutations[o.name].path} | {o.status} | {o.killer} | {o.seconds:.1f} s |")
    return "\n".join(lines)


def default_python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the mutations and the tests that must catch them")
    parser.add_argument("--only", action="append", metavar="NAME", help="run this mutation only (repeatable)")
    parser.add_argument("--workers", type=int, default=MAX_WORKERS, help=f"parallel pytest runs (at most {MAX_WORKERS})")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds one pytest run may take")
    parser.add_argument("--python", default=default_python(), help="the interpreter that runs pytest (default: .venv's)")
    args = parser.parse_args(argv)

    by_name = {m.name: m for m in MUTATIONS}
    if args.list:
        for m in MUTATIONS:
            print(f"{m.name:32} {m.path:30} {' '.join(m.tests)}\n{'':32} {m.what}")
        return 0
    unknown = sorted(set(args.only or ()) - set(by_name))
    if unknown:
        print(f"unknown mutation(s) {', '.join(unknown)}; --list shows them", file=sys.stderr)
        return 2
    chosen = [by_name[n] for n in args.only] if args.only else list(MUTATIONS)
    problems = stale(chosen)
    if problems:
        print("mutation list out of step with the code:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2

    start = time.perf_counter()
    workers = max(1, min(args.workers, MAX_WORKERS))
    print(f"zoo imports from the copy: {check_copy_is_imported(args.python)}")
    targets = list(dict.fromkeys(t for m in chosen for t in m.tests))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        baseline = pool.submit(in_copy, "unmutated", targets, args.python, args.timeout, lambda copy: None)
        canary = pool.submit(in_copy, "canary", [chosen[0].tests[0]], args.python, args.timeout, break_package)
        baseline_outcome, canary_outcome = baseline.result(), canary.result()
        if baseline_outcome.status != "SURVIVED":
            print(f"the unmutated copy fails its tests ({baseline_outcome.killer}):\n{baseline_outcome.output[-3000:]}", file=sys.stderr)
            return 2
        if canary_outcome.status != "killed" or "mutation_check canary" not in canary_outcome.output:
            print(f"the canary that breaks the copy's zoo was not caught: the tests import another zoo\n{canary_outcome.output[-3000:]}", file=sys.stderr)
            return 2
        print(f"preflight: unmutated copy passes ({baseline_outcome.seconds:.1f} s), canary caught ({canary_outcome.seconds:.1f} s)")
        futures = [pool.submit(in_copy, m.name, m.tests, args.python, args.timeout, mutate(m)) for m in chosen]
        outcomes = []
        for future in futures:
            outcome = future.result()
            outcomes.append(outcome)
            print(f"  {outcome.name}: {outcome.status} in {outcome.seconds:.1f} s", flush=True)
    print()
    print(table(outcomes, by_name))
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        if o.status == "error":
            print(f"\n{o.name}: pytest did not run as expected:\n{o.output[-2000:]}", file=sys.stderr)
    killed = sum(o.ok for o in outcomes)
    print(f"\n{killed} of {len(outcomes)} mutations killed, {len(failed)} not; {time.perf_counter() - start:.0f} s in all")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
