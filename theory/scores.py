"""Scoring a mixture against the exact optimum (research/theory.md section 6, "Scoring any method's output"):
l1 = ||alpha - alpha*||_1, regret = F(alpha) - F(alpha*), gain captured
(F(unif) - F(alpha)) / (F(unif) - F(alpha*)) (NaN when the denominator is below 1e-8), FW gap of F at alpha."""

from __future__ import annotations

import numpy as np

from . import exact
from .closed_forms import closed_forms

GAIN_FLOOR = 1e-8


def fw_gap_at(problem, alpha) -> float:
    gap = closed_forms(problem).fw_gap(alpha)  # non-smooth families: the smallest over the subdifferential
    return exact.fw_gap(exact.hypergradient(problem, alpha), alpha) if gap is None else float(gap)


def score(problem, alpha, optimum=None) -> dict:
    alpha = np.asarray(alpha, dtype=np.float64)
    opt = exact.optimum(problem) if optimum is None else optimum
    m = alpha.size
    f = exact.F(problem, alpha)
    f_unif = exact.F(problem, np.full(m, 1.0 / m))
    denom = f_unif - opt.F
    return {
        "l1": float(np.abs(alpha - opt.alpha).sum()),
        "regret": float(f - opt.F),
        "gain_captured": float((f_unif - f) / denom) if denom >= GAIN_FLOOR else float("nan"),
        "fw_gap": fw_gap_at(problem, alpha),
    }
