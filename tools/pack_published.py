"""Regenerate the published leaderboard packaged with coic-zoo from its one home, `leaderboards/results`.

    python tools/pack_published.py

Run it after the committed store changes (tests/test_published.py fails until you do); it rewrites
`zoo/results/assets/published/` (see `zoo.results.packaged_board`).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zoo.results.packaged_board import HOME, PACKAGED, pack  # noqa: E402

if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    for path in pack(root / HOME, PACKAGED):
        print(f"wrote {path.relative_to(root)}")
