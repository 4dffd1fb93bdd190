"""Family E: multinomial logistic regression (smooth, not closed form, exact to solver tolerance).

Gaussian class-conditional domains: class c of domain i has mean mu_c + shift xi_{i,c}, x ~ N(mean, I),
k classes, features plus a bias. L_i = mean cross-entropy over domain i's n_i samples, ridge
r = rho/2 ||theta||^2 in the inner problem; L_val = mean cross-entropy on a fixed validation sample from the
beta-mixture, plus the same ridge when ``val_ridge`` (theory.md B1 caveat: otherwise claim (b) holds only up
to O(rho)). Inner solve: Newton to ||grad|| < 1e-12; the hypergradient is the implicit formula with the exact
Hessian (theory.md section 1).
"""

from __future__ import annotations

import numpy as np

from tandem_ref.errors import BadInput
from tandem_ref.problem import VectorProblem, fingerprint_of

from ..closed_forms import ClosedForms
from ..stochastic import stochastic
from . import spec as S


class LogisticProblem(ClosedForms, VectorProblem):
    family = "logistic"
    grid_step = 1 / 20  # each F needs a Newton solve, so the M <= 3 grid check is coarser

    def __init__(self, Xs, ys, X_val, y_val, k, rho=1e-2, val_ridge=False, domains=None, lr=None):
        super().__init__()
        if rho <= 0:
            raise BadInput(f"rho: expected a positive ridge, got {rho}")
        self.k, self.rho, self.val_ridge = int(k), float(rho), bool(val_ridge)
        aug = lambda X: np.concatenate([np.asarray(X, dtype=np.float64), np.ones((len(X), 1))], axis=1)
        self.Xs = [aug(X) for X in Xs]
        self.Ys = [np.eye(self.k)[np.asarray(y, dtype=int)] for y in ys]
        self.Xv, self.Yv = aug(X_val), np.eye(self.k)[np.asarray(y_val, dtype=int)]
        self.M = len(self.Xs)
        self.p = self.Xv.shape[1]
        self.dim = self.p * self.k
        self.X_all = np.concatenate(self.Xs + [self.Xv])
        self.Y_all = np.concatenate(self.Ys + [self.Yv])
        self.owner = np.concatenate([np.full(len(X), i) for i, X in enumerate(self.Xs)] + [np.full(len(self.Xv), -1)])
        self.domains = tuple(domains) if domains is not None else tuple(f"d{i}" for i in range(self.M))
        self.sizes = np.array([len(X) for X in self.Xs], dtype=np.float64)
        sq = np.max(np.einsum("ni,ni->n", self.X_all, self.X_all))
        self.lr = float(lr) if lr is not None else 1.0 / (0.5 * sq + rho)
        self.flops_per_grad = 4.0 * len(self.X_all) * self.dim
        self._cache = {}

    def init_state(self, seed):
        return np.zeros(self.dim)

    def fingerprint(self):
        return fingerprint_of(["logistic", list(self.domains), self.X_all, self.Y_all, self.rho, self.val_ridge,
                               self.lr, self.noise])

    # --- per-sample pieces --------------------------------------------------------------
    @staticmethod
    def _row_max(Z):
        """Z.max(axis=1, keepdims=True), bit for bit (a maximum rounds nothing), as k - 1 element-wise
        maxima over columns: numpy reduces a short contiguous axis 30x slower (90 against 3 us at
        1800 x 3), and this was 45% of a RegMix probe run on this family."""
        m = Z[:, 0].copy()
        for j in range(1, Z.shape[1]):
            np.maximum(m, Z[:, j], out=m)
        return m[:, None]

    def _probs(self, theta, X):
        Z = X @ theta.reshape(self.p, self.k)
        Z = Z - self._row_max(Z)
        P = np.exp(Z)
        return P / P.sum(axis=1, keepdims=True)

    def _ce(self, theta, X, Y):
        Z = X @ theta.reshape(self.p, self.k)
        m = self._row_max(Z)
        lse = (m + np.log(np.exp(Z - m).sum(axis=1, keepdims=True)))[:, 0]
        return float(np.mean(lse - np.sum(Z * Y, axis=1)))

    def _ce_grad(self, theta, X, Y):
        return (X.T @ (self._probs(theta, X) - Y) / len(X)).ravel()

    def _weights(self, alpha, val_weight):
        w = np.zeros(len(self.X_all))
        for i in range(self.M):
            w[self.owner == i] = alpha[i] / len(self.Xs[i])
        w[self.owner == -1] = val_weight / len(self.Xv)
        return w

    def regulariser(self, theta):
        return 0.5 * self.rho * float(theta @ theta)

    def losses_at(self, theta):
        return np.array([self._ce(theta, X, Y) for X, Y in zip(self.Xs, self.Ys)])

    def val_loss_at(self, theta):
        return self._ce(theta, self.Xv, self.Yv) + (self.regulariser(theta) if self.val_ridge else 0.0)

    def grads_at(self, theta):
        return np.stack([self._ce_grad(theta, X, Y) for X, Y in zip(self.Xs, self.Ys)])

    def val_grad_at(self, theta):
        g = self._ce_grad(theta, self.Xv, self.Yv)
        return g + self.rho * theta if self.val_ridge else g

    def grad_at(self, theta, alpha, val_weight):
        w = self._weights(np.asarray(alpha, dtype=np.float64), 0.0)
        P = self._probs(theta, self.X_all)
        g = (self.X_all.T @ (w[:, None] * (P - self.Y_all))).ravel() + self.rho * theta
        return g + val_weight * self.val_grad_at(theta) if val_weight else g

    def inner_hessian(self, theta, alpha, val_weight=0.0):
        w = self._weights(np.asarray(alpha, dtype=np.float64), val_weight)
        P = self._probs(theta, self.X_all)
        C = w[:, None, None] * (np.einsum("nc,ce->nce", P, np.eye(self.k)) - np.einsum("nc,ne->nce", P, P))
        XC = self.X_all[:, :, None] * C.reshape(len(C), 1, -1)  # (N, p, k^2)
        # einsum, not a BLAS matmul: on a shared 2-core machine the threaded BLAS call was 70x slower
        H = np.einsum("na,nbq->abq", self.X_all, XC).reshape(self.p, self.p, self.k, self.k).transpose(0, 2, 1, 3)
        H = H.reshape(self.dim, self.dim)
        rho = self.rho * (1 + (val_weight if self.val_ridge else 0.0))
        return H + rho * np.eye(self.dim)

    def inner_solution(self, alpha, val_weight=0.0):
        """Newton on G_alpha + v L_val from theta = 0, to ||grad|| < 1e-12. Always from the same start
        (never from the last solve), so a value does not depend on what was computed before it on
        the same object: scores are then the same under any run order, --jobs or interruption."""
        alpha = np.asarray(alpha, dtype=np.float64)
        key = (alpha.tobytes(), float(val_weight))
        if key in self._cache:
            return self._cache[key].copy()
        theta = np.zeros(self.dim)
        w = self._weights(alpha, val_weight)
        rho = self.rho * (1 + (val_weight if self.val_ridge else 0.0))
        def objective(th):
            Z = self.X_all @ th.reshape(self.p, self.k)
            m = self._row_max(Z)
            lse = (m + np.log(np.exp(Z - m).sum(axis=1, keepdims=True)))[:, 0]
            return float(w @ (lse - np.sum(Z * self.Y_all, axis=1)) + 0.5 * rho * th @ th)

        f = objective(theta)
        for _ in range(200):  # damped Newton: backtracking on the (strongly convex) objective
            P = self._probs(theta, self.X_all)
            g = (self.X_all.T @ (w[:, None] * (P - self.Y_all))).ravel() + rho * theta
            if np.linalg.norm(g) < 1e-12:
                break
            step = np.linalg.solve(self.inner_hessian(theta, alpha, val_weight), g)
            t = 1.0
            while t > 1e-10:
                new = theta - t * step
                f_new = objective(new)
                if f_new <= f - 1e-4 * t * (g @ step) or (t == 1.0 and np.linalg.norm(g) < 1e-8):
                    break
                t *= 0.5
            theta, f = new, f_new
        else:
            raise FloatingPointError("logistic inner Newton solve did not reach ||grad|| < 1e-12")
        if len(self._cache) > 256:
            self._cache.clear()
        self._cache[key] = theta.copy()
        return theta


def make_logistic(seed=0, d=8, k=3, n=(300, 300, 300), n_val=900, shift=1.0, sep=1.5, rho=1e-2, beta=None,
                  val_ridge=False, noise=0.0):
    n = [int(x) for x in np.asarray(n).reshape(-1)]
    M = len(n)
    rng = np.random.default_rng(seed)
    mu = sep * rng.standard_normal((k, d))
    means = mu[None] + shift * rng.standard_normal((M, k, d))
    beta = np.full(M, 1.0 / M) if beta is None else np.asarray(beta, dtype=np.float64)

    def draw(i, count):
        y = rng.integers(0, k, size=count)
        return means[i, y] + rng.standard_normal((count, d)), y

    data = [draw(i, n[i]) for i in range(M)]
    counts = rng.multinomial(n_val, beta)
    val = [draw(i, int(c)) for i, c in enumerate(counts)]
    X_val = np.concatenate([v[0] for v in val])
    y_val = np.concatenate([v[1] for v in val])
    p = LogisticProblem([x for x, _ in data], [y for _, y in data], X_val, y_val, k, rho=rho, val_ridge=val_ridge)
    p.params = dict(seed=seed, d=d, k=k, n=n, n_val=n_val, shift=shift, sep=sep, rho=rho, val_ridge=val_ridge)
    return stochastic(p, noise)


def logistic_from_spec(spec: dict):
    """{"family": "logistic", "X": M arrays n_i x d, "y": M label lists, "X_val": n x d, "y_val": labels,
    "rho": ridge (default 1e-2), "val_ridge": false, "domains": names (optional)}; labels are 0 .. k-1."""
    S.known_keys(spec, ["X", "y", "X_val", "y_val", "rho", "val_ridge", "domains", "noise"], "logistic")
    Xs, ys = S.field(spec, "X"), S.field(spec, "y")
    if not isinstance(Xs, list) or not isinstance(ys, list) or len(Xs) != len(ys) or not Xs:
        raise BadInput("X, y: expected one feature matrix and one label list per domain")
    Xs = [S.array({f"X[{i}]": x}, f"X[{i}]", 2) for i, x in enumerate(Xs)]
    ys = [S.array({f"y[{i}]": y}, f"y[{i}]", 1) for i, y in enumerate(ys)]
    Xv, yv = S.array(spec, "X_val", 2), S.array(spec, "y_val", 1)
    d = Xv.shape[1]
    for name, X, y in [(f"X[{i}]", X, y) for i, (X, y) in enumerate(zip(Xs, ys))] + [("X_val", Xv, yv)]:
        if X.shape[1] != d or X.shape[0] != y.shape[0] or X.shape[0] == 0:
            raise BadInput(f"{name}: expected n x {d} features with one label per row, got {list(X.shape)}")
    labels = np.concatenate(ys + [yv])
    if np.any(labels < 0) or np.any(labels != np.round(labels)):
        raise BadInput("y: labels must be integers 0 .. k-1")
    rho = S.number(spec, "rho", 1e-2, positive=True)
    vr = S.field(spec, "val_ridge", False)
    if not isinstance(vr, bool):
        raise BadInput(f"val_ridge: expected true or false, got {vr!r}")
    p = LogisticProblem(Xs, ys, Xv, yv, int(labels.max()) + 1, rho=rho, val_ridge=vr,
                        domains=S.domains(spec, len(Xs)))
    return stochastic(p, S.number(spec, "noise", 0.0, nonneg=True))
