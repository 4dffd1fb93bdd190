"""Family C2 (fixed token budget with repetition) and B3 (its abundant case), theory.md section 5.

Two domains, budget N, weighted ERM with isotropic features; domain 1 abundant, domain 2 has n_2 = kappa N
examples, cycled. With a = alpha_1, delta = ||w_1 - w_2||^2 and s_j = sigma_j^2 d / N:
    F(a) = 1/2 delta (a - 1/2)^2 + s_1/2 a + s_2/2 max{1 - a, (1 - a)^2 / kappa}          (C2, B3)
(s_1 = s_2 = s in the paper's form.) The variance term is B3's sigma^2 max(alpha_i / N, alpha_i^2 / n_i)
per coordinate: fresh draws cost alpha_i / N, repeats cost alpha_i^2 / n_i.

As a Problem (so every method runs on it) the model is lifted to x = (theta, z_1, z_2):
    L_i(x) = 1/2 (theta - w_i)^2 + 1/2 ||z - e_i||^2,   w_{1,2} = +-sqrt(delta)/2
    L_val(x) = 1/2 theta^2 + sum_j s_j/2 phi_j(z_j),    phi_j(z) = max(z, z^2 / kappa_j)  (kappa_1 = inf)
The inner solution is theta* = sum_i alpha_i w_i, z_j* = alpha_j (z_j is the share of domain j's draws
in the estimate, whose noise the validation pays for), so L_val(x*(alpha)) is F above exactly.
phi has kinks at 0 and kappa; alpha* may sit on the kink a = 1 - kappa, where the FW gap is taken with
the subgradient that makes it smallest.
"""

from __future__ import annotations

import numpy as np

from tandem_ref.errors import BadInput
from tandem_ref.problem import VectorProblem, fingerprint_of

from ..closed_forms import ClosedForms
from ..exact import Optimum
from ..stochastic import stochastic
from . import spec as S


class BudgetProblem(ClosedForms, VectorProblem):
    family = "budget_repetition"

    def __init__(self, delta: float, s, kappa: float, lr: float = 0.5, init_scale: float = 1.0):
        super().__init__()
        s = np.broadcast_to(np.asarray(s, dtype=np.float64), (2,)).copy()
        if not delta > 0:
            raise BadInput(f"delta: expected a positive heterogeneity ||w1 - w2||^2, got {delta!r}")
        if np.any(s < 0):
            raise BadInput(f"s: expected non-negative noise-to-budget ratios, got {s.tolist()}")
        if not kappa > 0:
            raise BadInput(f"kappa: expected a positive scarce-domain size n2 / N, got {kappa!r}")
        self.delta, self.s, self.kappa = float(delta), s, float(kappa)
        self.kappas = np.array([np.inf, self.kappa])
        self.w = np.array([0.5, -0.5]) * np.sqrt(self.delta)
        self.domains = ("abundant", "scarce")
        self.sizes = np.array([1.0, self.kappa])  # n_i / N (domain 1: one epoch of the budget)
        self.lr = float(lr)
        self.init_scale = float(init_scale)
        self.dim = 3
        self.params = {"delta": self.delta, "s": s.tolist(), "kappa": self.kappa}

    # --- the closed form ----------------------------------------------------------------
    def F_of_a(self, a):
        a = np.asarray(a, dtype=np.float64)
        return 0.5 * self.delta * (a - 0.5) ** 2 + 0.5 * self.s[0] * a + 0.5 * self.s[1] * np.maximum(
            1 - a, (1 - a) ** 2 / self.kappa)

    def F_closed(self, alpha):
        alpha = np.asarray(alpha, dtype=np.float64)
        return float(self.F_of_a(alpha[0] / alpha.sum()))

    def F_batch(self, alphas):
        return self.F_of_a(alphas[:, 0] / alphas.sum(axis=1))

    def derivative_interval(self, a):
        """[F'(a-), F'(a+)] (the subdifferential; an interval only on the kink 1 - a = kappa)."""
        base = self.delta * (a - 0.5) + 0.5 * self.s[0]
        z = 1 - a
        slope = lambda side: 1.0 if (z < self.kappa or (z == self.kappa and side)) else 2 * z / self.kappa
        return base - 0.5 * self.s[1] * slope(False), base - 0.5 * self.s[1] * slope(True)

    def hypergradient_closed(self, alpha):
        a = alpha[0] / alpha.sum()
        d = self.derivative_interval(a)[1]
        return np.array([d * (1 - a), -d * a])  # dF/dalpha on the simplex, up to a constant shift

    def exact_optimum(self) -> Optimum:
        """a_abundant = 1/2 + (s_2 - s_1) / (2 delta) if it repeats nothing (a >= 1 - kappa); else the
        repetition branch a_l = (delta/2 + s_2/kappa - s_1/2) / (delta + s_2/kappa) if a_l <= 1 - kappa; else
        the kink a = 1 - kappa (theory.md C2: a* = min(a_l, 1 - kappa), interior iff delta (1 - 2 kappa) >= s)."""
        d, (s1, s2), k = self.delta, self.s, self.kappa
        a_ab = 0.5 + (s2 - s1) / (2 * d)
        a_l = (d / 2 + s2 / k - s1 / 2) / (d + s2 / k)
        if a_ab >= 1 - k:
            a = a_ab
        elif a_l <= 1 - k:
            a = a_l
        else:
            a = 1 - k
        a = float(np.clip(a, 0.0, 1.0))
        alpha = np.array([a, 1 - a])
        f = self.F_closed(alpha)
        grid = np.linspace(0.0, 1.0, 201)  # the M <= 3 grid check of the section 5 recipe
        if self.F_of_a(grid).min() < f - 1e-12 * max(1.0, abs(f)):
            raise FloatingPointError("C2 closed form beaten by a grid point")
        gap = self.fw_gap(alpha)
        return Optimum(alpha, f, gap, grid_checked=True, certified=gap < 1e-9, notes=["closed form (theory.md C2)"])

    def fw_gap(self, alpha) -> float:
        """min over the subdifferential of a D+ + (1 - a) D-, D = dF/da (two-domain FW gap)."""
        a = float(alpha[0])
        lo, hi = self.derivative_interval(a)
        if lo <= 0 <= hi:
            return 0.0
        gap = lambda D: a * max(D, 0) + (1 - a) * max(-D, 0) if 0 < a < 1 else (
            max(D, 0) if a == 1 else max(-D, 0))
        return float(min(gap(lo), gap(hi)))

    # --- the lifted problem -------------------------------------------------------------
    def init_state(self, seed):
        return self.init_scale * np.random.default_rng(seed).standard_normal(3)

    def fingerprint(self):
        return fingerprint_of(["budget_repetition", self.delta, self.s, self.kappa, self.lr, self.noise])

    def _phi(self, z, j):
        k = self.kappas[j]
        return np.maximum(z, 0.0) if np.isinf(k) else max(z, z * z / k)

    def _dphi(self, z, j):
        k = self.kappas[j]
        if np.isinf(k):
            return 1.0 if z > 0 else 0.0
        return 1.0 if 0 < z <= k else 2 * z / k

    def regulariser(self, x):
        return 0.0

    def losses_at(self, x):
        th, z = x[0], x[1:]
        return np.array([0.5 * (th - self.w[i]) ** 2 + 0.5 * np.sum((z - np.eye(2)[i]) ** 2) for i in range(2)])

    def val_loss_at(self, x):
        return 0.5 * x[0] ** 2 + sum(0.5 * self.s[j] * self._phi(x[1 + j], j) for j in range(2))

    def grads_at(self, x):
        return np.array([np.concatenate([[x[0] - self.w[i]], x[1:] - np.eye(2)[i]]) for i in range(2)])

    def val_grad_at(self, x):
        return np.array([x[0]] + [0.5 * self.s[j] * self._dphi(x[1 + j], j) for j in range(2)])

    def grad_at(self, x, alpha, val_weight):
        g = alpha @ self.grads_at(x)
        return g + val_weight * self.val_grad_at(x) if val_weight else g

    def inner_hessian(self, x, alpha, val_weight=0.0):
        return np.sum(alpha) * np.eye(3)  # the validation's curvature is not needed at val_weight = 0

    def inner_solution(self, alpha, val_weight=0.0):
        """argmin G_alpha + v L_val: theta = A^-1 sum alpha_i w_i / (1 + v/A); z_j minimises the convex
        1/2 [alpha_j (z - 1)^2 + (A - alpha_j) z^2] + v s_j/2 phi_j(z), piece by piece."""
        alpha = np.asarray(alpha, dtype=np.float64)
        A = alpha.sum()
        th = alpha @ self.w / (A + val_weight)
        z = np.zeros(2)
        for j in range(2):
            k, c = self.kappas[j], val_weight * self.s[j]
            z1 = (alpha[j] - c / 2) / A  # branch phi' = 1
            if z1 > k:
                z[j] = max(k, alpha[j] / (A + c / k))  # branch phi' = 2z/kappa, else the kink
            else:
                z[j] = max(z1, 0.0)
        return np.concatenate([[th], z])


def make_budget(seed=0, delta=1.0, s=0.05, kappa=0.1, noise=0.0):
    """C2 (``seed`` unused: the instance is fixed by its three numbers)."""
    return stochastic(BudgetProblem(delta, s, kappa), noise)


def make_balanced_budget(seed=0, delta=1.0, s=0.05, kappa=1.0, noise=0.0):
    """B3: the budget family in its abundant region kappa >= 1/2 (a* = 1/2 when s_1 = s_2)."""
    p = make_budget(seed, delta, s, kappa, noise)
    p.family = "balanced_budget"
    return p


def budget_from_spec(spec: dict):
    """The fixed C2 spec form: {"family": "budget_repetition", "delta": d, "s": s, "kappa": k}; "s" may
    also be [s_1, s_2] (unequal noise, theory.md B3's negative control)."""
    S.known_keys(spec, ["delta", "s", "kappa", "noise"], spec["family"])
    delta = S.number(spec, "delta", positive=True)
    s = S.field(spec, "s")
    if isinstance(s, list):
        s = S.array(spec, "s", 1)
        if s.shape != (2,) or np.any(s < 0):
            raise BadInput("s: expected a non-negative number or two of them [s1, s2]")
    else:
        s = S.number(spec, "s", nonneg=True)
    kappa = S.number(spec, "kappa", positive=True)
    p = stochastic(BudgetProblem(delta, s, kappa), S.number(spec, "noise", 0.0, nonneg=True))
    p.family = spec["family"]
    return p
