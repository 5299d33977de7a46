"""Run `zoo ARGS...` with test hooks, so a test can SIGKILL it at an exact point (tests/test_kill_anywhere.py).

    python tests/kill_wrapper.py train brn ...

Environment:
- `ZOO_TEST_WRITES=FILE`: before each atomic write is moved into place, append `<name> <sha256>` of the
  complete new version to FILE. A file on disk whose hash is not listed was never a complete version.
- `ZOO_TEST_PAUSE=KIND:ARG:N` (ARG empty for `step` and `eval`) and `ZOO_TEST_MARK=FILE`: at the N-th occurrence (counted in this process)
  create FILE and sleep until killed. KIND is
  `write` (the N-th write of a file whose name starts with ARG, paused half-written: its temporary file
  holds half the bytes and the target is untouched), `after` (just after the N-th write of ARG was moved
  into place, before the next file of the same checkpoint), `step` (ARG ignored: the trainer finished
  optimiser step N in memory and has neither logged nor checkpointed it) or `eval` (the N-th test set
  of an evaluation is about to be scored).

Nothing here is imported by the library; the hooks replace functions of an imported `zoo` in this process.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _pause() -> None:
    Path(os.environ["ZOO_TEST_MARK"]).write_text(str(os.getpid()))
    while True:
        time.sleep(60)


def install() -> None:
    sys.path.insert(0, str(REPO))
    import importlib

    import zoo._atomic as atomic
    from zoo.training.trainer import Trainer

    evaluate_run = importlib.import_module("zoo.training.evaluate_run")  # the package exports a function of that name

    kind, arg, nth = os.environ.get("ZOO_TEST_PAUSE", "none::0").split(":")
    count = int(nth)
    seen: dict[str, int] = {}
    log = os.environ.get("ZOO_TEST_WRITES")
    install_file = atomic._install

    def hooked_install(tmp: Path, target: Path) -> None:
        matched = kind in ("write", "after") and target.name.startswith(arg)
        if matched:
            seen[kind] = seen.get(kind, 0) + 1
        if matched and kind == "write" and seen[kind] == count:
            data = tmp.read_bytes()
            tmp.write_bytes(data[: len(data) // 2])
            _pause()
        if log:
            digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.write(fd, f"{target.name} {digest}\n".encode())
            os.close(fd)
        install_file(tmp, target)
        if matched and kind == "after" and seen[kind] == count:
            _pause()

    atomic._install = hooked_install

    if kind == "step":
        step = Trainer.train_step

        def hooked_step(self: Trainer, batch: Any) -> dict[str, float]:
            logs = step(self, batch)
            if self.step == count:
                _pause()
            return logs

        Trainer.train_step = hooked_step  # type: ignore[method-assign]

    if kind == "eval":
        evaluate_set = evaluate_run.evaluate_set
        calls = [0]

        def hooked_evaluate(*args: Any, **kwargs: Any) -> Any:
            calls[0] += 1
            if calls[0] == count:
                _pause()
            return evaluate_set(*args, **kwargs)

        evaluate_run.evaluate_set = hooked_evaluate


if __name__ == "__main__":
    install()
    from zoo.cli import main

    sys.argv = ["zoo", *sys.argv[1:]]
    main()
