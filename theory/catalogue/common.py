"""What every catalogue entry shares: verdict rows, slope fits, the standard instances, method runs."""

from __future__ import annotations

import math

import numpy as np

from tandem_ref.registry import get_method

from ..families import make

PROFILES = ("quick", "full")


def row(id_, title, setting, statistic, expected, measured, holds, ci=None, note="", case=""):
    """One tidy verdict row (the reports' and the tests' unit). ``case`` names the instance where one
    catalogue ID checks the same statement on several (a seed, a problem and a parameter): with the
    title it identifies the row (theory.claims.Known)."""
    lo, hi = (measured, measured) if ci is None else ci
    def num(x):
        if isinstance(x, (bool, np.bool_)):
            return bool(x)
        return float(x) if isinstance(x, (int, float, np.floating, np.integer)) else x

    return {"id": id_, "claim": f"{id_} {title}", "case": case, "setting": setting, "statistic": statistic,
            "expected": num(expected), "measured": num(measured), "ci_low": num(lo), "ci_high": num(hi),
            "holds": bool(holds), "note": note}


def slope(x, y) -> float:
    """Least-squares slope of log y against log x (theory.md section 8 conventions)."""
    x, y = np.log(np.asarray(x, dtype=np.float64)), np.log(np.asarray(y, dtype=np.float64))
    return float(np.polyfit(x, y, 1)[0])


def semilog_slope(x, y) -> float:
    """Least-squares slope of log y against x."""
    return float(np.polyfit(np.asarray(x, dtype=np.float64), np.log(np.asarray(y, dtype=np.float64)), 1)[0])


def bootstrap_slope(x, Y, reps=400, seed=0):
    """95% interval of the slope of log mean_s Y[s, :] against log x, resampling seeds (rows of Y)."""
    rng = np.random.default_rng(seed)
    Y = np.asarray(Y, dtype=np.float64)
    out = [slope(x, Y[rng.integers(0, len(Y), len(Y))].mean(axis=0)) for _ in range(reps)]
    return float(np.percentile(out, 2.5)), float(np.percentile(out, 97.5))


def rel(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def l1(a, b) -> float:
    return float(np.abs(np.asarray(a) - np.asarray(b)).sum())


def a_nr(seed=3, aniso=5.0, pert=1.5, **kw):
    """A-nr: Family A, non-realizable and anisotropic (theory.md 7); seed 3 is the prototype's instance."""
    return make("quadratic", seed, m=3, d=6, aniso=aniso, pert=pert, **kw)


# seed 4 of A-nr has an interior alpha* (min alpha* = 0.157 at aniso 5, 0.097 at aniso 20): the O(1/lambda)
# slope tests need one (theory.md P6 and section 9, "interior checks")
INTERIOR_SEED = 4
# with shared curvature (F_lambda a convex quadratic in alpha), seed 14 has an interior alpha*_lambda (min 0.264)
SHARED_SEED = 14


def run_method(name, problem, budget, seed=0, **params):
    return get_method(name, **params).run(problem, int(budget), seed)


def spearman(x, y) -> float:
    rx = np.argsort(np.argsort(x))
    ry = np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


def finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)
