"""LM-5, faster convergence, read off the Stage-Two test-loss curves of a suite's reported study: the
steps (and FLOPs, the mixer's included) a method's run needs to reach uniform's final test loss,
over uniform's own."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import stats
from .reading import BASELINE, seed_values


def _curve(fin: pd.DataFrame, method: str, seeds) -> tuple[np.ndarray, np.ndarray]:
    cols = sorted(c for c in fin.columns if c.startswith("curve.") and fin[c].notna().any())
    steps = np.array([int(c.split(".")[1]) for c in cols], dtype=np.float64)
    g = fin[fin["method"] == method].drop_duplicates("seed").set_index("seed")
    return steps, g[cols].reindex(seeds).to_numpy(dtype=np.float64) if cols else np.zeros((len(seeds), 0))


def steps_to(steps: np.ndarray, curve: np.ndarray, level: float) -> float:
    """The first step at which a loss curve reaches ``level`` (linear between logged points; the
    curve starts at step 0 above any level); inf when it never does."""
    prev_s, prev_v = 0.0, math.inf
    for s, v in zip(steps, curve):
        if v <= level:
            if not math.isfinite(prev_v):
                return float(s)
            return float(prev_s + (s - prev_s) * (prev_v - level) / (prev_v - v))
        prev_s, prev_v = s, v
    return math.inf


def convergence(fin: pd.DataFrame, method: str):
    """LM-5: per seed, the steps a method's Stage-Two run needs to reach uniform's final test loss
    (on the curve's evaluation set) over the steps uniform needs; and the same in FLOPs, the
    method's including its mixer's cost. Returns ((ratio, low, high, n), (ratio, low, high, n)) of
    means over seeds (bootstrap intervals), or None without curves. A run that never reaches the
    level counts as the whole run plus one logging interval (a lower bound of its true cost)."""
    seeds = sorted(set(fin.loc[fin["method"] == method, "seed"]) & set(fin.loc[fin["method"] == BASELINE, "seed"]))
    steps, cm = _curve(fin, method, seeds)
    _, cu = _curve(fin, BASELINE, seeds)
    if not len(steps) or not len(seeds):
        return None
    horizon = steps[-1] + (steps[-1] - steps[-2] if len(steps) > 1 else steps[-1])
    reach = lambda c, lv: min(steps_to(steps, c, lv), horizon)  # noqa: E731
    m_steps = np.array([reach(cm[i], cu[i][-1]) for i in range(len(seeds))])
    u_steps = np.array([reach(cu[i], cu[i][-1]) for i in range(len(seeds))])
    per_step = seed_values(fin, "stage_two.flops_per_step", BASELINE, seeds)
    mixer = np.nan_to_num(seed_values(fin, "cost.flops", method, seeds))
    m_flops = m_steps * seed_values(fin, "stage_two.flops_per_step", method, seeds) + mixer
    u_flops = u_steps * per_step
    return stats.ratio_of_means(m_steps, u_steps), stats.ratio_of_means(m_flops, u_flops)


