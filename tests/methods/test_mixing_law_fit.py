"""Data Mixing Laws' fit (tandem_ref/methods/mixing_laws.py), public for `tandem-bench fit`: the analytic
gradient is right, and the multi-start fit is the one the method used before it was made public (the same
initialisations in the same order, so stored results of the mixing-laws method stay valid)."""

import numpy as np
import pytest
from scipy.optimize import minimize

from tandem_ref.methods import mixing_laws as ml
from tandem_ref.probes import domain_streams


def _table(n, m, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.dirichlet(np.full(m, 0.5), size=n)
    y = 4.0 + ((X - 1.0 / m) ** 2).sum(axis=1) + 0.2 * np.exp(-3.0 * X[:, 0]) + rng.normal(0.0, 0.005, size=n)
    return X, y


def _inits(y, K, m, starts=6, seed=0):
    names = [f"d{j}" for j in range(m)]
    return ml.law_inits(y, K, starts, np.random.default_rng([seed, 1]), domain_streams(seed, 1, names))


def test_objective_gradient_matches_finite_differences():
    X, y = _table(30, 4)
    theta = _inits(y, 3, 4, starts=1)[0] * 0.3
    _, g = ml._huber_objective(theta, X, y, 3, 0.5)  # delta large: the quadratic branch, smooth for differences
    num = np.array([(ml._huber_objective(theta + h, X, y, 3, 0.5)[0] - ml._huber_objective(theta - h, X, y, 3, 0.5)[0])
                    / 2e-6 for h in np.eye(theta.size) * 1e-6])
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("n,m,K", [(20, 5, 5), (48, 3, 3), (30, 5, 1)])
def test_fit_law_is_the_methods_loop_of_starts(n, m, K):
    """The loop the method ran inline before (draws start by start: T from the per-domain streams, then w and b
    from the common stream; one L-BFGS-B per start; the first best kept), written out here."""
    X, y = _table(n, m)
    theta, loss = ml.fit_law(X, y, _inits(y, K, m, starts=4), K, 0.01)
    common, per_domain = np.random.default_rng([0, 1]), domain_streams(0, 1, [f"d{j}" for j in range(m)])
    spread = max(float(y.max() - y.min()), 1e-8)
    best, best_loss = None, np.inf
    for _ in range(4):
        T0 = np.stack([r.normal(0.0, 1.0, size=K) for r in per_domain], axis=1)
        w0 = common.normal(0.0, 0.1, size=K)
        b0 = np.log(spread) + common.normal(0.0, 0.5, size=K)
        theta0 = np.concatenate([[float(y.min()) - 0.1 * spread], w0, b0, T0.ravel()])
        r = minimize(ml._huber_objective, theta0, args=(X, y, K, 0.01), jac=True, method="L-BFGS-B",
                     options={"maxiter": 1000, "ftol": 1e-15, "gtol": 1e-12})
        if np.isfinite(r.fun) and r.fun < best_loss:
            best, best_loss = r.x, r.fun
    assert np.array_equal(theta, best) and loss == best_loss
    # with as many implicit domains as domains the law explains the table far better than its mean does
    assert ml.law(theta, X, K)[0].shape == y.shape
    if K == m:
        assert np.mean((ml.law(theta, X, K)[0] - y) ** 2) < 0.1 * np.var(y)
