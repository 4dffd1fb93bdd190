"""Data Mixing Laws (Ye et al., "Data Mixing Laws: Optimizing Data Mixtures by Predicting Language Modeling
Performance", 2024; yegcjs/mixinglaws).

The law (paper Eq. 1; law code utils.py mixture_law_):      L_i(r) = c_i + k_i exp(sum_j t_ij r_j)
The validation set is one scalar loss here, an unknown mixture of implicit domains ("implicit domain
aggregation", paper Section 3.3; pipeline/utils.py MixtureMLP with the exp activation is this law):
      L_val(r) = c + sum_{k=1..K} s_k exp(b_k + sum_j t_kj r_j),   s = softmax(w)
K = `implicit_domains` (None: M). K = 1 is Eq. 1 itself: c + exp(b + t.r), monotone along every line, so its
predicted optimum is always a vertex.

Algorithm:
  1. candidate mixtures r^(1..n) ~ Dir(M prior) (flat when the prior is uniform)           [probes]
  2. one probe run each: y^(k) = L_val after probe_steps steps                            [probes.probe_run]
  3. fit (c, w, b, T) by minimising sum_k Huber_delta(L(r^(k)) - y^(k)) with L-BFGS from `starts` random
     initialisations (at most 1000 iterations each), the best fit kept (law.py fit_scaling_laws: L-BFGS,
     Huber loss, multiple inits; mixlaw.py keeps the best of 16 seeds). Analytic gradient.       [fit_law]
  4. alpha_hat = argmin over the simplex of the fitted law: lattice search, then SLSQP polish
     (pipeline/find_opt.py searches a grid; the authors know no closed form, mixinglaws issue #3).
Departures, documented: c is unconstrained (MixtureMLP's output bias; Eq. 1's code writes c = exp(log c));
the MixtureMLP fit uses AdamW and an AdaBoost ensemble of 30 such MLPs with K = 30, here one law fitted
with L-BFGS as the laws' own fitting code (law.py, torch L-BFGS in float32) does, in float64.

How the fit runs (``fit_law``): one ``scipy.optimize.minimize(method="L-BFGS-B")`` per start on float64
arrays with the analytic gradient (``_huber_objective``), the best start kept. Measured on 2 shared cores:
16 starts on 20 runs x 17 domains take 1.5-2 s; on RegMix's 512 x 17 table 3.4-5.4 s, where the cost is the
arithmetic itself (16 x ~1150 evaluations on 512 x 17 x 17 arrays) and no start converges before the
1000-iteration cap, so the law is the 1000th L-BFGS iterate: a rounding-level change in the arithmetic
(another BLAS) moves its predictions by up to ~0.1-0.2, and fitting further overfits (a trust-region fit down
to a 7x lower Huber loss ranked RegMix's 1M test set at Spearman 0.92, not 0.98). Advancing the restarts in
lockstep through scipy's reverse-communication routine saved per-call overhead on small tables (2.7x at
20 x 17, nothing at 512 x 17) but needed a private scipy API; not worth it.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from ..probes import ProbeMethod, dirichlet_mixtures, domain_streams, minimize_on_simplex, token_prior

# L-BFGS-B settings of the fit (scipy's defaults for maxcor, maxls and maxfun)
MAXITER, FTOL, GTOL, MAXCOR, MAXLS, MAXFUN = 1000, 1e-15, 1e-12, 10, 20, 15000


def law(theta, R, K):
    """L(R) for mixtures R (n, M) and parameters theta = [c, w (K), b (K), T (K x M)]; also the pieces."""
    m = R.shape[1]
    c, w, b, T = theta[0], theta[1:1 + K], theta[1 + K:1 + 2 * K], theta[1 + 2 * K:].reshape(K, m)
    s = np.exp(w - w.max())
    s = s / s.sum()
    e = np.exp(np.minimum(b[None, :] + R @ T.T, 50.0))  # (n, K); the cap only guards wild L-BFGS trials
    return c + e @ s, (s, e)


def _huber_objective(theta, R, y, K, delta):
    pred, (s, e) = law(theta, R, K)
    r = pred - y
    a = np.abs(r)
    loss = np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta)).sum()
    g = np.clip(r, -delta, delta)  # d Huber / d residual
    se = e * s[None, :]  # (n, K)
    grad_c = g.sum()
    grad_w = s * (g @ e) - s * (g @ (e @ s))  # d/dw_k sum_l s_l e_l = s_k (e_k - sum_l s_l e_l)
    grad_b = g @ se
    grad_T = (se * g[:, None]).T @ R  # (K, M)
    return loss, np.concatenate([[grad_c], grad_w, grad_b, grad_T.ravel()])


# --- the multi-start fit ------------------------------------------------------------------------------

def _fit_starts(R, y, inits, K, delta):
    """One ``scipy.optimize.minimize(method="L-BFGS-B")`` per start; returns (x, f) per start."""
    out = []
    for theta0 in inits:
        r = minimize(_huber_objective, theta0, args=(R, y, K, delta), jac=True, method="L-BFGS-B",
                     options={"maxiter": MAXITER, "ftol": FTOL, "gtol": GTOL})
        out.append((r.x, float(r.fun)))
    return out


def law_inits(y, K, starts, common, per_domain):
    """The `starts` initial parameter vectors (S, P): T's columns from the per-domain streams (so that permuting
    the domains permutes the fit), c, w and b from the common stream, drawn start after start."""
    spread = max(float(y.max() - y.min()), 1e-8)
    out = []
    for _ in range(starts):
        T0 = np.stack([r.normal(0.0, 1.0, size=K) for r in per_domain], axis=1)  # (K, M)
        w0 = common.normal(0.0, 0.1, size=K)
        b0 = np.log(spread) + common.normal(0.0, 0.5, size=K)
        out.append(np.concatenate([[float(y.min()) - 0.1 * spread], w0, b0, T0.ravel()]))
    return np.asarray(out)


def fit_law(R, y, inits, K, delta=0.01):
    """The multi-start Huber fit of the law from the rows of ``inits``; returns (theta of the best start, its
    Huber loss)."""
    R, y = np.asarray(R, dtype=np.float64), np.asarray(y, dtype=np.float64)
    runs = _fit_starts(R, y, np.asarray(inits, dtype=np.float64), K, delta)
    best, best_loss = None, np.inf
    for x, f in runs:  # the first of equal losses
        if np.isfinite(f) and f < best_loss:
            best, best_loss = x, f
    return best, best_loss


class MixingLaws(ProbeMethod):
    name = "mixing-laws"
    summary = "fit L(r) = c + sum_k s_k exp(b_k + t_k.r) to probe runs, minimise the predicted loss on the simplex"
    defaults = {"probes": 32, "probe_steps": None, "lr": None, "implicit_domains": None, "starts": 16,
                "huber_delta": 0.01, "concentration": None}

    def check(self):
        super().check()
        self._integer("implicit_domains", optional=True)
        self._integer("starts")
        self._positive("huber_delta", "concentration")

    def candidates(self, problem, seed, stream, n):
        return dirichlet_mixtures(problem, seed, stream, n, token_prior(problem), self.params["concentration"])

    def fit(self, X, y, seed, stream, domains):
        """Multi-start L-BFGS fit of the law; returns the best parameter vector and K."""
        p = self.params
        K = p["implicit_domains"] or X.shape[1]
        common, per_domain = np.random.default_rng([seed, stream]), domain_streams(seed, stream, domains)
        inits = law_inits(y, K, p["starts"], common, per_domain)
        return fit_law(X, y, inits, K, p["huber_delta"])[0], K

    def choose(self, problem, X, Y, seed, stream):
        theta, K = self.fit(X, Y[:, 0], seed, stream, problem.domains)            # 3. fit the law
        return minimize_on_simplex(lambda R: law(theta, R, K)[0], X.shape[1])    # 4. its argmin
