"""Minimisation on the simplex and fixed points of score fields (research/theory.md section 5 recipe).

alpha* recipe: alpha = softmax(z), BFGS on z with the analytic gradient
dF/dz = alpha * (grad F - alpha . grad F) (gtol 1e-12), multi-start from uniform plus 3 Dirichlet
draws, then a KKT root solve on the support (grad_i F = c, 1^T alpha = 1), certified by the
Frank-Wolfe gap (section 1), with a grid check (step 1/200) for M <= 3.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize, root

FW_TOL = 1e-9


def fw_gap(grad, alpha) -> float:
    """gap(alpha) = sum_i alpha_i d_i F - min_i d_i F >= 0 (theory.md section 1); 0 iff KKT."""
    grad = np.asarray(grad, dtype=np.float64)
    return float(max(np.asarray(alpha) @ grad - grad.min(), 0.0))


def softmax(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


@dataclass
class SimplexMin:
    alpha: np.ndarray
    value: float
    fw_gap: float
    grid_checked: bool = False
    notes: list = field(default_factory=list)


def simplex_grid(m: int, step: float = 1 / 200) -> np.ndarray:
    """All mixtures with coordinates in multiples of ``step`` (M <= 3)."""
    n = int(round(1 / step))
    if m == 1:
        return np.ones((1, 1))
    if m == 2:
        a = np.arange(n + 1) / n
        return np.stack([a, 1 - a], axis=1)
    i, j = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    keep = i + j <= n
    i, j = i[keep], j[keep]
    return np.stack([i, j, n - i - j], axis=1) / n


def _bfgs(f, grad, a0):
    def fz(z):
        a = softmax(z)
        g = grad(a)
        return f(a), a * (g - a @ g)

    z0 = np.log(np.maximum(a0, 1e-300))
    z0 = z0 - z0.max()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = minimize(fz, z0, jac=True, method="BFGS", options={"gtol": 1e-12, "maxiter": 2000})
    return softmax(r.x)


def _kkt_polish(f, grad, alpha, support):
    """Solve grad_i F(alpha) = c on the support, sum alpha = 1, alpha = 0 off it (hybr root solve)."""
    m = alpha.size
    S = np.flatnonzero(support)
    if S.size == 1:
        a = np.zeros(m)
        a[S] = 1.0
        return a

    def full(x):
        a = np.zeros(m)
        a[S[:-1]] = x
        a[S[-1]] = 1.0 - x.sum()
        return a

    def eqs(x):
        g = grad(full(x))[S]
        return g[:-1] - g[-1]

    x0 = alpha[S[:-1]] / alpha[S].sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = root(eqs, x0, method="hybr", options={"xtol": 1e-15})
    return full(r.x)


def _candidates(alpha, grad):
    """Supports to try for the KKT polish: small weights dropped at several thresholds."""
    out = []
    for thr in (1e-3, 1e-5, 1e-8, 0.0):
        s = alpha > thr * alpha.max()
        if not any(np.array_equal(s, t) for t in out):
            out.append(s)
    return out


def polish(f, grad, alpha) -> tuple[np.ndarray, float]:
    """Best KKT point near ``alpha`` by support identification; falls back to ``alpha`` itself."""
    best, best_gap = alpha, fw_gap(grad(alpha), alpha)
    for s in _candidates(alpha, grad):
        for _ in range(alpha.size):  # active set: drop the most negative weight and solve again
            try:
                a = _kkt_polish(f, grad, np.where(s, np.maximum(alpha, 1e-12), 0.0), s)
            except (np.linalg.LinAlgError, ValueError, FloatingPointError):
                break
            if not np.all(np.isfinite(a)):
                break
            if a.min() < -1e-12:
                s = s.copy()
                s[int(np.argmin(a))] = False
                continue
            a = np.maximum(a, 0.0)
            a = a / a.sum()
            gap = fw_gap(grad(a), a)
            if gap < best_gap:
                best, best_gap = a, gap
            break
        if best_gap < 1e-13:
            break
    return best, best_gap


def mirror_descent(grad, alpha, eta=0.05, steps=2000):
    """Exact entropic mirror descent alpha_i <- alpha_i exp(-eta d_i F) / Z (theory.md section 2)."""
    a = np.asarray(alpha, dtype=np.float64).copy()
    for _ in range(steps):
        g = grad(a)
        z = np.log(np.maximum(a, 1e-300)) - eta * g
        a = softmax(z)
    return a


def minimize_simplex(f, grad, m, *, f_many=None, starts: int = 3, seed: int = 0,
                     grid_step: float | None = 1 / 200, tol: float = FW_TOL) -> SimplexMin:
    """Global minimiser of a smooth f on the simplex by the section 5 recipe, certified by FW gap."""
    rng = np.random.default_rng(seed)
    inits = [np.full(m, 1.0 / m)] + [rng.dirichlet(np.ones(m)) for _ in range(starts)]
    notes = []
    best = None
    for a0 in inits:
        a = _bfgs(f, grad, a0)
        a, gap = polish(f, grad, a)
        if gap > tol:
            a, gap = polish(f, grad, mirror_descent(grad, a, eta=0.05 / max(1.0, np.abs(grad(a)).max())))
        v = f(a)
        if best is None or v < best.value - 1e-15 or (v <= best.value + 1e-15 and gap < best.fw_gap):
            best = SimplexMin(a, float(v), gap)
    if grid_step is not None and m <= 3:
        grid = simplex_grid(m, grid_step)
        vals = f_many(grid) if f_many is not None else np.array([f(g) for g in grid])
        k = int(np.argmin(vals))
        if vals[k] < best.value - 1e-12 * max(1.0, abs(best.value)):
            notes.append(f"grid point {grid[k].tolist()} beat the multi-start; restarted there")
            a, gap = polish(f, grad, _bfgs(f, grad, np.maximum(grid[k], 1e-6)))
            best = SimplexMin(a, float(f(a)), gap)
        best.grid_checked = True
    best.notes = notes
    return best


def field_fixed_point(field, m, *, eta=0.05, steps=600, alpha0=None, tol=1e-12) -> SimplexMin:
    """Fixed point of exact mirror descent driven by a descent field g(alpha) (not necessarily a gradient):
    alpha_i proportional to alpha_i exp(-eta g_i). At a fixed point g is constant on the support and no
    smaller off it (FW gap of the field = 0). Mirror descent, then the same KKT root polish."""
    a = np.full(m, 1.0 / m) if alpha0 is None else np.asarray(alpha0, dtype=np.float64)
    eta = eta / max(float(np.abs(field(a)).max()), 1e-300)  # eta is relative to the field's scale
    a = mirror_descent(field, a, eta=eta, steps=steps)
    a, gap = polish(None, field, a)
    if gap > tol:
        a = mirror_descent(field, a, eta=eta / 4, steps=steps)
        a, gap = polish(None, field, a)
    return SimplexMin(a, float("nan"), gap)


def simplex_qp(Q, b) -> np.ndarray:
    """min 1/2 a^T Q a - b^T a on the simplex for PSD Q, by enumerating supports (an active-set QP
    independent of the BFGS recipe; M <= 12). Interior formula of theory.md C1 on each support:
    a_S = Q_S^-1 (b_S + nu 1), nu = (1 - 1^T Q_S^-1 b_S) / (1^T Q_S^-1 1)."""
    Q = np.asarray(Q, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    m = b.size
    best, best_v = None, np.inf
    for k in range(1, m + 1):
        for S in itertools.combinations(range(m), k):
            S = list(S)
            QS = Q[np.ix_(S, S)]
            try:
                x = np.linalg.solve(QS, b[S])
                y = np.linalg.solve(QS, np.ones(k))
            except np.linalg.LinAlgError:
                continue
            nu = (1 - x.sum()) / y.sum()
            aS = x + nu * y
            if aS.min() < -1e-14:
                continue
            a = np.zeros(m)
            a[S] = np.maximum(aS, 0)
            g = Q @ a - b
            if g.min() < g[S].max() - 1e-10 * max(1.0, np.abs(g).max()):
                continue  # dual infeasible: some inactive coordinate would decrease the objective
            v = 0.5 * a @ Q @ a - b @ a
            if v < best_v:
                best, best_v = a, v
    if best is None:
        raise ValueError("simplex_qp: no KKT point found (Q not PSD?)")
    return best
