"""Problems with a known optimum for the peer methods' tests, and alpha* by a direct solve."""

import numpy as np
from scipy.optimize import minimize

from tandem_ref import QuadraticProblem
from tandem_ref.probes import simplex_lattice
from tandem_ref.problem import VectorProblem, fingerprint_of


def alpha_star(F, m: int) -> np.ndarray:
    """argmin of F over the simplex: a lattice of step ~1/100, then SLSQP from the best point."""
    grid = simplex_lattice(m, 6000)
    vals = np.array([F(a) for a in grid])
    r = minimize(F, grid[int(np.argmin(vals))], method="SLSQP", bounds=[(0, 1)] * m,
                 constraints=[{"type": "eq", "fun": lambda a: a.sum() - 1}], options={"ftol": 1e-15, "maxiter": 500})
    a = np.clip(r.x, 0, None)
    return a / a.sum()


def quadratic_alpha_star(p: QuadraticProblem) -> np.ndarray:
    """alpha* of Family A: F(alpha) = L_val(theta*(alpha)), theta* by QuadraticProblem.inner_solution."""
    return alpha_star(lambda a: p.val_loss_at(p.inner_solution(a)), len(p.domains))


class ExactLawProblem(VectorProblem):
    """A problem the Data Mixing Law expresses exactly: L_i(theta) = 1/2 ||theta - e_i||^2, so one step of size 1
    lands on theta = alpha from anywhere, and L_val(theta) = c + sum_k s_k exp(b_k + t_k . theta): the probe
    loss after one step IS the law with K = M implicit domains at r = alpha. It has no inner_solution: no
    exact optimum for theory (the oracle must refuse it)."""

    def __init__(self, s, b, T, c=0.5, domains=None):
        super().__init__()
        self.s, self.b, self.T, self.c = np.asarray(s, float), np.asarray(b, float), np.asarray(T, float), float(c)
        m = self.T.shape[1]
        self.domains = tuple(domains) if domains is not None else tuple(f"d{i}" for i in range(m))
        self.lr = 1.0

    def init_state(self, seed):
        return np.random.default_rng(seed).standard_normal(len(self.domains))

    def fingerprint(self):
        return fingerprint_of(["exact-law", list(self.domains), self.s, self.b, self.T, self.c])

    def F(self, alpha):
        return self.c + self.s @ np.exp(self.b + self.T @ np.asarray(alpha))

    def grads_at(self, theta):
        return theta[None, :] - np.eye(len(theta))

    def grad_at(self, theta, alpha, val_weight):
        g = alpha @ self.grads_at(theta)
        return g + val_weight * self.val_grad_at(theta) if val_weight else g

    def losses_at(self, theta):
        return 0.5 * ((theta[None, :] - np.eye(len(theta))) ** 2).sum(axis=1)

    def val_loss_at(self, theta):
        return self.F(theta)

    def val_grad_at(self, theta):
        return (self.s * np.exp(self.b + self.T @ theta)) @ self.T


