"""Family D: tabular softmax, the MixMin-type exact non-quadratic family (theory.md section 5).

Inputs x in [m] with a shared marginal p(x), labels y in [k], domain conditionals p_i(y|x) ~ Dirichlet(conc).
The model is a free conditional table theta (logits, m x k), trained with cross-entropy on the normalised
counts e_i(x, y) = c_i(x, y) / n_i, plus a pseudo-count tau on every cell (the regulariser
r(theta) = -tau sum_{x,y} log q_theta(y|x)). Validation: the population target p(x) p_val(y|x),
p_val = sum beta_i p_i. Everything is closed form:
    q_alpha(y|x) = (sum_i alpha_i e_i(x,y) + tau) / (sum_i alpha_i e_i(x) + k tau)
    F(alpha) = -sum_{x,y} p(x) p_val(y|x) log q_alpha(y|x)
    d_i F = -sum p(x) p_val(y|x) [e_i(x,y) / A(x,y) - e_i(x) / A(x)],  A = sum alpha_i e_i + tau
TANDEM's reference adds lambda^-1 p(x) p_val(y|x) to the counts. ``population=True`` uses e_i = p(x) p_i(y|x)
(abundant data; then F is convex and alpha* = beta when tau = 0).
tau must be small against the normalised counts (which sum to 1 over all m k cells): 1e-4.
"""

from __future__ import annotations

import numpy as np

from tandem_ref.errors import BadInput
from tandem_ref.problem import VectorProblem, fingerprint_of

from ..closed_forms import ClosedForms
from ..stochastic import stochastic
from . import spec as S


def _log_softmax(T):
    T = T - T.max(axis=-1, keepdims=True)
    return T - np.log(np.exp(T).sum(axis=-1, keepdims=True))


class TabularProblem(ClosedForms, VectorProblem):
    family = "tabular"

    def __init__(self, e, e_val, tau=1e-4, sizes=None, domains=None, lr=None):
        super().__init__()
        e = np.asarray(e, dtype=np.float64)
        e_val = np.asarray(e_val, dtype=np.float64)
        if e.ndim != 3:
            raise BadInput(f"counts: expected M tables m x k, got shape {list(e.shape)}")
        if e_val.shape != e.shape[1:]:
            raise BadInput(f"p_val: expected an m x k table, got shape {list(e_val.shape)}")
        if np.any(e < 0) or np.any(e_val < 0):
            raise BadInput("counts: tables must be non-negative")
        if tau < 0:
            raise BadInput(f"tau: expected a non-negative pseudo-count, got {tau}")
        self.e, self.e_val, self.tau = e, e_val, float(tau)
        self.M, self.mx, self.k = e.shape
        self.dim = self.mx * self.k
        self.domains = tuple(domains) if domains is not None else tuple(f"d{i}" for i in range(self.M))
        self.sizes = None if sizes is None else np.asarray(sizes, dtype=np.float64)
        # softmax cross-entropy rows have curvature <= weight(x) / 2
        self.lr = float(lr) if lr is not None else 1.0 / max(1e-12, (e.sum(axis=2).max(axis=1).max() + tau * self.k))
        self.flops_per_grad = 4.0 * (self.M + 1) * self.dim

    def init_state(self, seed):
        return np.zeros(self.dim)

    def fingerprint(self):
        return fingerprint_of(["tabular", list(self.domains), self.e, self.e_val, self.tau, self.lr, self.noise])

    # --- weighted cross-entropy on a table of weights E (m x k) -------------------------
    @staticmethod
    def _ce(E, theta):
        return float(-np.sum(E * _log_softmax(theta)))

    @staticmethod
    def _ce_grad(E, theta):
        q = np.exp(_log_softmax(theta))
        return E.sum(axis=-1, keepdims=True) * q - E

    def _table(self, theta):
        return np.asarray(theta).reshape(self.mx, self.k)

    def regulariser(self, theta):
        return self.tau * self._ce(np.ones((self.mx, self.k)), self._table(theta))

    def losses_at(self, theta):
        T = _log_softmax(self._table(theta))
        return -np.einsum("ixy,xy->i", self.e, T)

    def val_loss_at(self, theta):
        return self._ce(self.e_val, self._table(theta))

    def grads_at(self, theta):
        T = self._table(theta)
        return np.stack([self._ce_grad(self.e[i], T).ravel() for i in range(self.M)])

    def val_grad_at(self, theta):
        return self._ce_grad(self.e_val, self._table(theta)).ravel()

    def grad_at(self, theta, alpha, val_weight):
        E = np.einsum("i,ixy->xy", alpha, self.e) + self.tau + val_weight * self.e_val
        return self._ce_grad(E, self._table(theta)).ravel()

    # --- closed forms -------------------------------------------------------------------
    def inner_solution(self, alpha, val_weight=0.0):
        A = np.einsum("i,ixy->xy", np.asarray(alpha, dtype=np.float64), self.e) + self.tau + val_weight * self.e_val
        with np.errstate(divide="ignore"):
            return np.log(A / A.sum(axis=1, keepdims=True)).ravel()

    def F_batch(self, alphas):
        A = np.einsum("ni,ixy->nxy", alphas, self.e) + self.tau
        logq = np.log(A) - np.log(A.sum(axis=2, keepdims=True))
        return -np.einsum("xy,nxy->n", self.e_val, logq)

    def hypergradient_closed(self, alpha):
        A = np.einsum("i,ixy->xy", alpha, self.e) + self.tau
        Ax = A.sum(axis=1)
        return -(np.einsum("xy,ixy->i", self.e_val / A, self.e) - np.einsum("x,ix->i", self.e_val.sum(axis=1) / Ax,
                                                                            self.e.sum(axis=2)))


def make_tabular(seed=0, m=20, k=4, n=(5000, 5000, 1000), conc=0.5, tau=1e-4, beta=None, population=False,
                 noise=0.0):
    n = np.asarray(n, dtype=np.float64).reshape(-1)
    M = n.size
    rng = np.random.default_rng(seed)
    px = rng.dirichlet(np.full(m, 5.0))
    cond = rng.dirichlet(np.full(k, conc), size=(M, m))  # p_i(y|x)
    beta = np.full(M, 1.0 / M) if beta is None else np.asarray(beta, dtype=np.float64)
    joint = px[None, :, None] * cond
    e_val = np.einsum("i,ixy->xy", beta, joint)
    if population:
        e = joint
    else:
        e = np.stack([rng.multinomial(int(n[i]), joint[i].ravel()).reshape(m, k) / n[i] for i in range(M)])
    p = TabularProblem(e, e_val, tau=tau, sizes=n)
    p.params = dict(seed=seed, m=m, k=k, n=n.tolist(), conc=conc, tau=tau, population=population)
    p.beta = beta
    return stochastic(p, noise)


def tabular_from_spec(spec: dict):
    """{"family": "tabular", "counts": M tables m x k of label counts per input, "p_val": the m x k joint target
    p(x) p_val(y|x) (sums to 1), "tau": pseudo-count (default 1e-4), "domains": names (optional)}."""
    S.known_keys(spec, ["counts", "p_val", "tau", "domains", "noise"], "tabular")
    counts = S.array(spec, "counts", 3)
    if np.any(counts < 0) or counts.size == 0:
        raise BadInput("counts: expected non-negative label counts")
    n = counts.sum(axis=(1, 2))
    if np.any(n <= 0):
        raise BadInput(f"counts: domain {int(np.argmin(n))} has no samples")
    p_val = S.array(spec, "p_val", 2)
    S.check_shape(p_val, counts.shape[1:], "p_val", "an m x k joint distribution")
    if np.any(p_val < 0) or abs(p_val.sum() - 1) > 1e-9:
        raise BadInput("p_val: expected a non-negative m x k table summing to 1")
    tau = S.number(spec, "tau", 1e-4, nonneg=True)
    if tau == 0 and np.any(np.einsum("ixy->xy", counts)[p_val > 0] == 0):
        raise BadInput("tau: must be positive when a target cell has no training count (F would be infinite)")
    p = TabularProblem(counts / n[:, None, None], p_val, tau=tau, sizes=n,
                       domains=S.domains(spec, counts.shape[0]))
    return stochastic(p, S.number(spec, "noise", 0.0, nonneg=True))
