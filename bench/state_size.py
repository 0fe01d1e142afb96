"""What the case's size guard and compaction cost per workflow task (issue 19), on a case in reintegration.

    .venv/bin/python bench/state_size.py

Each `_publish` (after every event, timer and delivery) measures the state (`limits.state_bytes`) for the
size guard and compacts it (`limits.compact`); this times both on a typical state, to set against the
worker's CPU per case in bench/RESULTS.md.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "unit"))
from casebook import DOMESTIC, Case  # noqa: E402 - the unit tests' plain constructors

from sinergi.domain import limits  # noqa: E402


def per_call(fn, n: int = 5000) -> float:
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - started) / n


def main() -> None:
    case = Case(**DOMESTIC)
    case.deliver()
    case.to_reintegration()
    state = case.s
    print(f"state: {limits.state_bytes(state):,} bytes, {len(state.referrals)} referrals, {len(state.clocks)} clocks")
    print(f"limits.state_bytes: {per_call(lambda: limits.state_bytes(state)) * 1e6:.0f} µs per call")
    print(f"limits.compact:     {per_call(lambda: limits.compact(state)) * 1e6:.1f} µs per call")


if __name__ == "__main__":
    main()
