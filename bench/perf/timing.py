"""Interleaved minimum timing: what every gated ratio of the performance gate is made of."""

from __future__ import annotations

import time


def min_times(fns: dict, rounds: int = 7, inner: int = 1) -> dict:
    """Minimum seconds per call of each function, the functions interleaved round by round so that
    a burst of load elsewhere hits every side alike."""
    best = {k: float("inf") for k in fns}
    for f in fns.values():  # warm-up (allocator, first-call costs)
        f()
    for _ in range(rounds):
        for k, f in fns.items():
            t0 = time.perf_counter()
            for _ in range(inner):
                f()
            best[k] = min(best[k], (time.perf_counter() - t0) / inner)
    return best
