"""Finite-sample linear regression: B2 (balanced: equal n_i, sigma_i) and C1 (imbalanced n_i).

Domain i: y = x^T w_i + eps, x ~ N(0, I), eps ~ N(0, sigma_i^2), n_i samples with a whitened design
(X_i^T X_i = n_i I). Weighted ERM on the per-domain average losses is then the quadratic
L_i(theta) = 1/2 ||theta - w_hat_i||^2 + const with w_hat_i = w_i + X_i^T eps_i / n_i, and
w_hat_i ~ N(w_i, (sigma_i^2 / n_i) I) exactly (Q^T eps is N(0, sigma^2 I) for orthonormal Q), which is how
a draw is sampled. The validation is the population risk of the beta-mixture target:
L_val = 1/2 ||theta - w_beta||^2 (+ const), w_beta = sum beta_i w_i.

Expected risk (theory.md B2 / C1):  F_E(alpha) = 1/2 ||W alpha - w_beta||^2 + d/2 sum_i alpha_i^2 v_i,
v_i = sigma_i^2 / n_i. It is itself an exact bilevel quadratic problem in dimension d + M: c_i = (w_i, e_i),
H_i = I, V = diag(I_d, d diag(v)), theta_v = (w_beta, 0); the extra coordinate z_i is the share of
domain i's noise the ERM keeps (z_i* = alpha_i). ``expected=True`` builds that problem.
"""

from __future__ import annotations

import numpy as np

from tandem_ref.errors import BadInput
from tandem_ref.quadratic import QuadraticProblem

from ..stochastic import stochastic


def _vec(x, m, name):
    a = np.broadcast_to(np.asarray(x, dtype=np.float64), (m,)).copy() if np.ndim(x) == 0 else \
        np.asarray(x, dtype=np.float64)
    if a.shape != (m,):
        raise BadInput(f"{name}: expected {m} values, got {np.shape(x)}")
    return a


def make_regression(seed=0, d=10, n=(1000, 1000, 1000), sigma=1.0, spread=1.0, beta=None, expected=False,
                    noise=0.0, family="balanced_samples", draw=0):
    """``seed`` fixes the domains (w_i), ``draw`` the training samples (so draws share one design)."""
    n = np.asarray(n, dtype=np.float64).reshape(-1)
    m = n.size
    if np.any(n < 1):
        raise BadInput("n: every domain needs at least one sample")
    sigma = _vec(sigma, m, "sigma")
    beta = np.full(m, 1.0 / m) if beta is None else _vec(beta, m, "beta")
    rng = np.random.default_rng(seed)
    W = spread * rng.standard_normal((m, d))  # rows w_i
    w_beta = beta @ W
    v = sigma ** 2 / n
    names = [f"d{i}" for i in range(m)]
    if expected:
        c = np.concatenate([W, np.eye(m)], axis=1)
        V = np.zeros((d + m, d + m))
        V[:d, :d] = np.eye(d)
        V[d:, d:] = np.diag(d * v)
        p = QuadraticProblem(np.stack([np.eye(d + m)] * m), c, V, np.concatenate([w_beta, np.zeros(m)]),
                             domains=names, sizes=n)
    else:
        w_hat = W + np.sqrt(v)[:, None] * np.random.default_rng([seed, draw]).standard_normal((m, d))
        p = QuadraticProblem(np.stack([np.eye(d)] * m), w_hat, np.eye(d), w_beta, domains=names, sizes=n)
    p.family = family
    p.params = dict(seed=seed, d=d, n=n.tolist(), sigma=sigma.tolist(), spread=spread, beta=beta.tolist(),
                    expected=expected, draw=draw)
    p.W, p.w_beta, p.v, p.d_model, p.beta = W, w_beta, v, d, beta
    return stochastic(p, noise)


def make_balanced_samples(seed=0, d=10, m=3, n=1000, sigma=1.0, spread=1.0, expected=False, noise=0.0, draw=0):
    """B2: equal n_i = n and sigma_i = sigma, beta uniform: uniform is KKT for F_E at every n."""
    return make_regression(seed, d=d, n=[n] * m, sigma=sigma, spread=spread, expected=expected, noise=noise,
                           family="balanced_samples", draw=draw)


def make_imbalanced(seed=0, d=10, N=2000, r=16.0, sigma=1.0, spread=0.1, n=None, expected=False, noise=0.0,
                    draw=0):
    """C1: two domains with n_1 / n_2 = r and n_1 + n_2 = N (or explicit ``n``)."""
    if n is None:
        if not r > 0:
            raise BadInput(f"r: expected a positive imbalance n1/n2, got {r}")
        n = [N * r / (1 + r), N / (1 + r)]
    return make_regression(seed, d=d, n=n, sigma=sigma, spread=spread, expected=expected, noise=noise,
                           family="imbalanced", draw=draw)


def expected_risk(problem, alpha) -> float:
    """F_E(alpha) (theory.md C1), without the constant."""
    alpha = np.asarray(alpha, dtype=np.float64)
    r = alpha @ problem.W - problem.w_beta
    return float(0.5 * r @ r + 0.5 * problem.d_model * np.sum(alpha ** 2 * problem.v))


def two_domain_optimum(delta, d, v1, v2, beta=0.5):
    """Two domains, beta = 1/2 (theory.md C1): a* = (beta delta + d v2) / (delta + d (v1 + v2)),
    gain = d^2 (v2 - v1)^2 / (8 (delta + d (v1 + v2)))."""
    a = (beta * delta + d * v2) / (delta + d * (v1 + v2))
    gain = d ** 2 * (v2 - v1) ** 2 / (8 * (delta + d * (v1 + v2)))
    return a, gain
