"""T0: plumbing (theory.md section 8). Each function returns verdict rows; expectations from closed forms."""

from __future__ import annotations

import numpy as np

from .. import exact
from ..families import make
from ..simplex_opt import polish, simplex_grid, simplex_qp
from .common import a_nr, rel, row, run_method


def _central(f, x, h=1e-6):
    E = np.eye(x.size)
    return np.array([(f(x + h * E[i]) - f(x - h * E[i])) / (2 * h) for i in range(x.size)])


def T0_1(profile="quick"):
    """Implicit hypergradient vs central differences (h = 1e-6): rel 1e-6 (A), 1e-5 (E)."""
    rows = []
    rng = np.random.default_rng(0)
    worst = 0.0
    for seed in range(5):
        p = make("quadratic", seed, m=3, d=6, aniso=10.0, pert=1.0)
        a = rng.dirichlet(np.ones(3))
        worst = max(worst, rel(exact.hypergradient(p, a), _central(lambda x: exact.F(p, x), a)))
    rows.append(row("T0.1", "implicit hypergradient = finite differences", "A, M=3, d=6, aniso=10, seeds 0-4",
                    "max rel error", 0.0, worst, worst < 1e-6, note="tolerance 1e-6"))
    p = make("logistic", 0, d=8)
    a = np.array([0.5, 0.3, 0.2])
    err = rel(exact.hypergradient(p, a), _central(lambda x: exact.F(p, x), a))
    rows.append(row("T0.1", "implicit hypergradient = finite differences", "E, d=8, k=3, Newton inner solve",
                    "rel error", 0.0, err, err < 1e-5, note="tolerance 1e-5"))
    return rows


def T0_2(profile="quick"):
    """Danskin grad F_lambda = lambda [L_i(w_lambda) - L_i(u*)] vs finite differences, lambda in {1, 10, 100}."""
    rows = []
    p = a_nr()
    a = np.array([0.2, 0.3, 0.5])
    for lam in (1.0, 10.0, 100.0):
        err = rel(exact.grad_F_lambda(p, a, lam), _central(lambda x: exact.F_lambda(p, x, lam), a))
        rows.append(row("T0.2", "Danskin gradient of F_lambda = finite differences", f"A-nr, lambda={lam:g}",
                        "rel error", 0.0, err, err < 1e-6, note="tolerance 1e-6"))
    return rows


def T0_3(profile="quick"):
    """Sandwich P1: F_lambda <= F, F_lambda nondecreasing in lambda, P >= 0 (abs 1e-12 x scale)."""
    lams = [1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1e3, 3e3, 1e4]
    worst_above, worst_decrease, worst_neg = -np.inf, -np.inf, -np.inf
    for seed in range(5):
        p = make("quadratic", seed, m=3, d=6, aniso=5.0, pert=1.5)
        rng = np.random.default_rng(seed)
        for _ in range(20):
            a = rng.dirichlet(np.ones(3))
            f = exact.F(p, a)
            fl = np.array([exact.F_lambda(p, a, lam) for lam in lams])
            P = np.array([exact.penalty_gap(p, a, lam) for lam in lams])
            scale = max(1.0, abs(f))
            worst_above = max(worst_above, (fl - f).max() / scale)
            worst_decrease = max(worst_decrease, (fl[:-1] - fl[1:]).max() / scale)
            worst_neg = max(worst_neg, (-P).max() / scale)
    worst = max(worst_above, worst_decrease, worst_neg)
    return [row("T0.3", "F_lambda <= F, nondecreasing in lambda, P >= 0", "A-nr, seeds 0-4, 20 random alpha each",
                "max violation / max(1,|F|)", 0.0, worst, worst <= 1e-12,
                note=f"F_lambda - F {worst_above:.2e}; decrease {worst_decrease:.2e}; -P {worst_neg:.2e}")]


def T0_4(profile="quick"):
    """Identical twins (no extra data: reference_data='train') leave alpha where it started, exactly."""
    rows = []
    for label, noise in (("deterministic", 0.0), ("stochastic, batch noise 1", 1.0)):
        p = a_nr(noise=noise)
        tr = run_method("tandem", p, 600, seed=0, reference_data="train", gamma=10.0)
        moved = float(np.abs(tr.alpha - 1 / 3).max())
        rows.append(row("T0.4", "identical twins: alpha never moves", f"A-nr, {label}, TANDEM loop, 120 updates",
                        "max |alpha_t - alpha_0|", 0.0, moved, moved <= 1e-12))
    return rows


def T0_5(profile="quick"):
    """Shared-H Family A: alpha* from the simplex QP, softmax-BFGS, a KKT root solve and a grid agree."""
    rows = []
    for seed in range(3):
        p = make("quadratic", seed, m=3, d=6, aniso=5.0, pert=1.0, shared_curvature=True)
        Q, b = exact.shared_curvature_qp(p)
        a_qp = simplex_qp(Q, b)
        bf = exact.optimum(p, method="bfgs", grid_step=None)
        grid = simplex_grid(3)
        vals = exact.F_many(p, grid)
        g0 = grid[int(np.argmin(vals))]
        a_root, gap_root = polish(None, lambda x: exact.hypergradient(p, x), g0)
        diff = max(np.abs(a_qp - bf.alpha).max(), np.abs(a_qp - a_root).max())
        grid_ok = vals.min() >= exact.F(p, a_qp) - 1e-12 and np.abs(g0 - a_qp).max() <= 1 / 200 + 1e-12
        gaps = max(bf.fw_gap, gap_root, exact.fw_gap(exact.hypergradient(p, a_qp), a_qp))
        rows.append(row("T0.5", "QP = BFGS = KKT root = grid", f"A shared H, pert=1, seed {seed}",
                        "max |alpha_QP - alpha_other|", 0.0, diff, diff < 1e-7 and grid_ok and gaps < 1e-9,
                        note=f"alpha*={np.round(a_qp, 4).tolist()}, max FW gap {gaps:.1e}, grid min above F* "
                             f"and within one cell: {grid_ok}"))
    return rows
