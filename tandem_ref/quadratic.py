"""A small quadratic problem with exact gradients: the library's own test bed.

L_i(theta) = 1/2 (theta - c_i)^T H_i (theta - c_i)        (domain i's training loss)
L_val(theta) = 1/2 (theta - theta_val)^T V (theta - theta_val)
G_alpha(theta) = sum_i alpha_i L_i(theta) + rho/2 ||theta||^2   (the inner objective)

This is Family A of research/theory.md section 5 (population linear regression with feature
covariance H_i and domain optimum c_i). The theory package builds the full families, exact optima
and penalty quantities on top of it.
"""

from __future__ import annotations

import numpy as np

from .errors import BadInput
from .problem import VectorProblem, fingerprint_of


def random_spd(rng: np.random.Generator, d: int, aniso: float) -> np.ndarray:
    """Q diag(lam) Q^T with eigenvalues log-uniform in [1, aniso] and Haar-random Q."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    q = q * np.sign(np.diag(r))
    lam = np.exp(rng.uniform(0.0, np.log(aniso), size=d)) if aniso > 1 else np.ones(d)
    return (q * lam) @ q.T


class QuadraticProblem(VectorProblem):
    def __init__(self, H, c, V, theta_val, ridge: float = 0.0, domains=None, sizes=None,
                 lr: float | None = None, noise: float = 0.0, init_scale: float = 1.0):
        super().__init__()
        H = np.asarray(H, dtype=np.float64)
        c = np.asarray(c, dtype=np.float64)
        V = np.asarray(V, dtype=np.float64)
        theta_val = np.asarray(theta_val, dtype=np.float64)
        if H.ndim != 3 or H.shape[1] != H.shape[2]:
            raise BadInput(f"H: expected M matrices d x d, got shape {H.shape}")
        m, d, _ = H.shape
        if c.shape != (m, d):
            raise BadInput(f"c: expected {m} vectors of length {d}, got shape {c.shape}")
        if V.shape != (d, d):
            raise BadInput(f"V: expected a {d} x {d} matrix, got shape {V.shape}")
        if theta_val.shape != (d,):
            raise BadInput(f"theta_val: expected a vector of length {d}, got shape {theta_val.shape}")
        self.H, self.c, self.V, self.theta_val, self.ridge = H, c, V, theta_val, float(ridge)
        self.domains = tuple(domains) if domains is not None else tuple(f"d{i}" for i in range(m))
        if len(self.domains) != m:
            raise BadInput(f"domains: {len(self.domains)} names for {m} domains")
        self.sizes = None if sizes is None else np.asarray(sizes, dtype=np.float64)
        self.Hc = np.einsum("mij,mj->mi", H, c)
        top = max(np.linalg.eigvalsh(h)[-1] for h in H)
        self.smoothness = top + self.ridge + np.linalg.eigvalsh(V)[-1]
        self.lr = 1.0 / self.smoothness if lr is None else float(lr)
        self.noise = float(noise)
        self.init_scale = float(init_scale)
        self.flops_per_grad = 2.0 * (m + 1) * d * d

    @classmethod
    def random(cls, m: int = 3, d: int = 6, aniso: float = 5.0, pert: float = 0.0, seed: int = 0,
               ridge: float = 0.0, beta=None, shared_curvature: bool = False, **kw) -> "QuadraticProblem":
        """Family A: validation = beta-mixture of the domains with perturbed optima c_i + pert xi_i.

        pert = 0 makes the problem realizable (alpha* = beta, research/theory.md P5)."""
        rng = np.random.default_rng(seed)
        if shared_curvature:
            h = random_spd(rng, d, aniso)
            H = np.stack([h] * m)
        else:
            H = np.stack([random_spd(rng, d, aniso) for _ in range(m)])
        c = rng.standard_normal((m, d))
        beta = np.full(m, 1.0 / m) if beta is None else np.asarray(beta, dtype=np.float64)
        c_val = c + pert * rng.standard_normal((m, d))
        V = np.einsum("m,mij->ij", beta, H) + ridge * np.eye(d)
        theta_val = np.linalg.solve(V, np.einsum("m,mij,mj->i", beta, H, c_val))
        return cls(H, c, V, theta_val, ridge=ridge, **kw)

    @property
    def dim(self) -> int:
        return self.c.shape[1]

    def init_state(self, seed: int):
        return self.init_scale * np.random.default_rng(seed).standard_normal(self.dim)

    def fingerprint(self) -> str:
        return fingerprint_of(["quadratic", list(self.domains), self.H, self.c, self.V,
                               self.theta_val, self.ridge, self.lr, self.noise, self.init_scale])

    # --- closed forms -------------------------------------------------------------------
    def hessian(self, alpha, val_weight: float = 0.0) -> np.ndarray:
        return (np.einsum("m,mij->ij", np.asarray(alpha, dtype=np.float64), self.H)
                + self.ridge * np.eye(self.dim) + val_weight * self.V)

    def inner_hessian(self, theta, alpha, val_weight: float = 0.0) -> np.ndarray:
        return self.hessian(alpha, val_weight)  # constant in theta

    def inner_solution(self, alpha, val_weight: float = 0.0) -> np.ndarray:
        """argmin_theta G_alpha(theta) + val_weight L_val(theta) (the proxy's and the reference's target)."""
        rhs = np.einsum("m,mi->i", np.asarray(alpha, dtype=np.float64), self.Hc) + val_weight * self.V @ self.theta_val
        return np.linalg.solve(self.hessian(alpha, val_weight), rhs)

    # --- VectorProblem hooks ------------------------------------------------------------
    def grads_at(self, theta):
        return np.einsum("mij,mj->mi", self.H, theta[None, :] - self.c)

    def val_grad_at(self, theta):
        return self.V @ (theta - self.theta_val)

    def grad_at(self, theta, alpha, val_weight):
        g = alpha @ self.grads_at(theta) + self.ridge * theta
        if val_weight:
            g = g + val_weight * self.val_grad_at(theta)
        return g

    def losses_at(self, theta):
        r = theta[None, :] - self.c
        return 0.5 * np.einsum("mi,mij,mj->m", r, self.H, r)

    def val_loss_at(self, theta):
        r = theta - self.theta_val
        return 0.5 * r @ self.V @ r

    def loss_difference(self, u, w):
        """L_i(u) - L_i(w) = -(grad L_i(u)^T delta + 1/2 delta^T H_i delta) with delta = w - u.

        Exact for quadratics and free of the cancellation that subtracting two O(1) losses causes
        when the twins are 1/gamma apart (research/theory.md section 9)."""
        u = np.asarray(u)
        delta = np.asarray(w) - u
        return -(self.grads_at(u) @ delta + 0.5 * np.einsum("i,mij,j->m", delta, self.H, delta))
