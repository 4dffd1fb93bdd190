"""Exact bilevel quantities of a controlled problem (research/theory.md sections 1 and 2).

A family problem is a ``tandem_ref.problem.VectorProblem`` and uses its public population protocol:
  inner_solution(alpha, val_weight=0)  argmin_theta G_alpha(theta) + val_weight L_val(theta)
  losses_at, val_loss_at, grads_at, val_grad_at, grad_at   (the population quantities at theta)
  inner_hessian(theta, alpha, val_weight), regulariser(theta)
and declares what it knows in closed form by subclassing ``theory.closed_forms.ClosedForms`` (F,
its batch, the hypergradient, the optimum). A ``QuadraticProblem`` (Family A and its kin) is
recognised by its type: its penalty gap, loss gaps and batched F have exact quadratic forms.

(BL)  F(alpha) = L_val(theta*(alpha)),  theta*(alpha) = argmin G_alpha
      d_i F = -grad L_i(theta*)^T H_alpha^-1 grad L_val(theta*)                    (implicit function thm)
(PEN) F_lambda(alpha) = min_theta L_val(theta) + lambda (G_alpha(theta) - v(alpha))
      w_lambda = argmin G_alpha + L_val / lambda, u* = theta*(alpha)               (the twins)
      d_i F_lambda = lambda [L_i(w_lambda) - L_i(u*)]                               (Danskin)
      P = G_alpha(w_lambda) - v(alpha) >= 0                                         (penalty gap)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tandem_ref.names import Registry
from tandem_ref.quadratic import QuadraticProblem

from .closed_forms import closed_forms
from .simplex_opt import FW_TOL, field_fixed_point, fw_gap, minimize_simplex, simplex_grid, simplex_qp

__all__ = ["Optimum", "optimum", "F", "hypergradient", "fw_gap", "theta_star", "w_lambda", "F_lambda",
           "grad_F_lambda", "penalty_gap", "penalty_constant", "kprobe_field", "twin_signal", "alignment_field",
           "valonly_field", "static_reference_field", "optimum_lambda", "kprobe_fixed_point", "fixed_point",
           "schedule_fixed_point", "shared_curvature_qp"]


@dataclass
class Optimum:
    alpha: np.ndarray
    F: float
    fw_gap: float
    grid_checked: bool = False
    certified: bool = False
    notes: list = field(default_factory=list)

    def as_dict(self, domains=None) -> dict:
        d = {"alpha": [float(a) for a in self.alpha], "F": float(self.F), "fw_gap": float(self.fw_gap)}
        if domains is not None:
            d["domains"] = list(domains)
        return d


# --- the lower level ---------------------------------------------------------------------------

def theta_star(problem, alpha) -> np.ndarray:
    return problem.inner_solution(np.asarray(alpha, dtype=np.float64))


def _hessian(problem, theta, alpha, val_weight=0.0):
    return problem.inner_hessian(theta, alpha, val_weight)


def _quadratic(problem) -> bool:
    return isinstance(problem, QuadraticProblem)


def G(problem, alpha, theta) -> float:
    """G_alpha(theta) = sum_i alpha_i L_i(theta) + r(theta)."""
    return float(np.asarray(alpha) @ problem.losses_at(theta) + problem.regulariser(theta))


def _gap(problem, w, u):
    """L_i(w) - L_i(u) per domain, exact (QuadraticProblem computes it from delta = w - u, section 9)."""
    return -problem.loss_difference(u, w)


# --- (BL) ----------------------------------------------------------------------------------------

def F(problem, alpha) -> float:
    alpha = np.asarray(alpha, dtype=np.float64)
    f = closed_forms(problem).F_closed(alpha)
    return float(problem.val_loss_at(theta_star(problem, alpha)) if f is None else f)


def F_many(problem, alphas) -> np.ndarray:
    """F on a batch of mixtures (vectorised where the family provides it)."""
    alphas = np.asarray(alphas, dtype=np.float64)
    batch = closed_forms(problem).F_batch(alphas)
    if batch is not None:
        return batch
    if _quadratic(problem):  # one batched solve
        Hs = np.einsum("nm,mij->nij", alphas, problem.H) + problem.ridge * np.eye(problem.dim)
        th = np.linalg.solve(Hs, (alphas @ problem.Hc)[..., None])[..., 0]
        r = th - problem.theta_val
        return 0.5 * np.einsum("ni,ij,nj->n", r, problem.V, r)
    return np.array([F(problem, a) for a in alphas])


def hypergradient(problem, alpha) -> np.ndarray:
    """d_i F = -grad L_i(theta*)^T H_alpha^-1 grad L_val(theta*) (implicit function theorem)."""
    alpha = np.asarray(alpha, dtype=np.float64)
    g = closed_forms(problem).hypergradient_closed(alpha)
    if g is not None:
        return g
    th = theta_star(problem, alpha)
    z = np.linalg.solve(_hessian(problem, th, alpha), problem.val_grad_at(th))
    return -problem.grads_at(th) @ z


def shared_curvature_qp(problem):
    """For a quadratic family with shared curvature H_i = H (B, C1, C2-like): theta*(alpha) = A c^T alpha with
    A = (H + rho I)^-1 H, so F(alpha) = 1/2 alpha^T Q alpha - b^T alpha + const, Q = c A^T V A c^T,
    b = c A^T V theta_v. None when the curvatures differ."""
    if not _quadratic(problem) or not np.allclose(problem.H, problem.H[0], rtol=0, atol=1e-14):
        return None
    H = problem.H[0]
    A = np.linalg.solve(H + problem.ridge * np.eye(problem.dim), H)
    B = problem.c @ A.T  # rows: A c_i
    return B @ problem.V @ B.T, B @ problem.V @ problem.theta_val


def optimum(problem, *, grid_step: float | None = 1 / 200, seed: int = 0, method: str = "auto") -> Optimum:
    """alpha* by the section 5 recipe, certified by FW gap: the family's closed form where it has one, the
    simplex QP for shared-curvature quadratics (method "qp"), else softmax-BFGS + KKT polish ("bfgs")."""
    closed = closed_forms(problem)
    if method == "auto" and (opt := closed.exact_optimum()) is not None:
        return opt
    m = len(problem.domains)
    step = grid_step if closed.grid_step is None else closed.grid_step
    qp = shared_curvature_qp(problem) if method in ("auto", "qp") else None
    if qp is not None and m <= 12:
        a = simplex_qp(*qp)
        gap = fw_gap(hypergradient(problem, a), a)
        checked, notes = False, ["simplex QP (shared curvature)"]
        if step is not None and m <= 3:
            grid = simplex_grid(m, step)
            if F_many(problem, grid).min() < F(problem, a) - 1e-12 * max(1.0, abs(F(problem, a))):
                raise FloatingPointError("simplex QP optimum beaten by a grid point")
            checked = True
        return Optimum(a, F(problem, a), gap, checked, gap < FW_TOL, notes)
    r = minimize_simplex(lambda a: F(problem, a), lambda a: hypergradient(problem, a), m,
                         f_many=lambda A: F_many(problem, A), grid_step=step, seed=seed)
    return Optimum(r.alpha, r.value, r.fw_gap, r.grid_checked, r.fw_gap < FW_TOL, r.notes)


# --- (PEN): the penalty, the twins and their gap ------------------------------------------------

def w_lambda(problem, alpha, lam) -> np.ndarray:
    """The reference w_lambda(alpha) = argmin G_alpha + lambda^-1 L_val (mixture plus 1/lambda validation)."""
    return problem.inner_solution(np.asarray(alpha, dtype=np.float64), 1.0 / lam)


def penalty_gap(problem, alpha, lam) -> float:
    """P(alpha, w_lambda) = G_alpha(w_lambda) - v(alpha) >= 0 (theory.md P3: ~ g^T H^-1 g / (2 lambda^2))."""
    alpha = np.asarray(alpha, dtype=np.float64)
    u, w = theta_star(problem, alpha), w_lambda(problem, alpha, lam)
    if _quadratic(problem):  # grad G_alpha(u) = 0, so P = 1/2 delta^T H_alpha delta exactly
        d = w - u
        return float(0.5 * d @ problem.hessian(alpha) @ d)
    return float(alpha @ _gap(problem, w, u) + problem.regulariser(w) - problem.regulariser(u))


def F_lambda(problem, alpha, lam) -> float:
    """F_lambda(alpha) = L_val(w_lambda) + lambda P (theory.md section 2); F_lambda <= F (P1)."""
    w = w_lambda(problem, alpha, lam)
    return float(problem.val_loss_at(w) + lam * penalty_gap(problem, alpha, lam))


def grad_F_lambda(problem, alpha, lam) -> np.ndarray:
    """Danskin: d_i F_lambda = lambda [L_i(w_lambda) - L_i(u*)] (the regulariser cancels)."""
    alpha = np.asarray(alpha, dtype=np.float64)
    return lam * _gap(problem, w_lambda(problem, alpha, lam), theta_star(problem, alpha))


def penalty_constant(problem, alpha) -> float:
    """1/2 g^T H^-1 g with g = grad L_val(u*), H = grad^2 G_alpha: lambda (F - F_lambda) -> it (P2) and
    lambda^2 P -> it (P3)."""
    alpha = np.asarray(alpha, dtype=np.float64)
    u = theta_star(problem, alpha)
    g = problem.val_grad_at(u)
    return float(0.5 * g @ np.linalg.solve(_hessian(problem, u, alpha), g))


def optimum_lambda(problem, lam, *, seed: int = 0) -> Optimum:
    """alpha*_lambda = argmin F_lambda on the simplex (the exact-twin TANDEM fixed point)."""
    m = len(problem.domains)
    r = minimize_simplex(lambda a: F_lambda(problem, a, lam), lambda a: grad_F_lambda(problem, a, lam), m,
                         grid_step=None, seed=seed)
    return Optimum(r.alpha, r.value, r.fw_gap, False, r.fw_gap < FW_TOL, r.notes)


# --- reference-signal fields of section 3 (descent fields g: mirror descent alpha ~ alpha e^{-eta g}) --

def kprobe_field(problem, alpha, K: int, eta: float | None = None) -> np.ndarray:
    """lambda -> infinity limit of the twin K-probe signal at a converged proxy (theory.md 3.2):
    g_i = -grad L_i(u*)^T P_K grad L_val(u*), P_K = (I - (I - eta H)^K) H^-1. K = 1: eta I (DoGE);
    K = infinity: H^-1 (the exact hypergradient)."""
    alpha = np.asarray(alpha, dtype=np.float64)
    eta = problem.lr if eta is None else eta
    u = theta_star(problem, alpha)
    H = _hessian(problem, u, alpha)
    A = np.eye(H.shape[0]) - eta * H
    PK = (np.eye(H.shape[0]) - np.linalg.matrix_power(A, int(K))) @ np.linalg.inv(H)
    return -problem.grads_at(u) @ PK @ problem.val_grad_at(u)


def twin_signal(problem, alpha, lam, K: int, eta: float | None = None, theta0=None, w0=None) -> np.ndarray:
    """The twin K-probe estimate lambda [L_i(w_K) - L_i(u_K)] of grad F_lambda (theory.md 3.2-3.3):
    proxy u and reference w start from theta0 (twin reset; w0 gives a lagging reference instead) and take
    K exact GD steps of size eta, u on G_alpha, w on G_alpha + L_val / lambda."""
    alpha = np.asarray(alpha, dtype=np.float64)
    eta = problem.lr if eta is None else eta
    u = theta_star(problem, alpha) if theta0 is None else np.array(theta0, dtype=np.float64)
    w = u.copy() if w0 is None else np.array(w0, dtype=np.float64)
    for _ in range(int(K)):
        u = u - eta * problem.grad_at(u, alpha, 0.0)
        w = w - eta * problem.grad_at(w, alpha, 1.0 / lam)
    return lam * _gap(problem, w, u)


def alignment_field(problem, alpha) -> np.ndarray:
    """DoGE's plain rule at a converged proxy: g_i = -<grad L_i(u*), grad L_val(u*)> (the K = 1 field / eta)."""
    u = theta_star(problem, alpha)
    return -problem.grads_at(u) @ problem.val_grad_at(u)


def valonly_field(problem, alpha) -> np.ndarray:
    """Static validation-only reference theta_v = argmin L_val: grad Gamma_val = L_i(theta_v) - L_i(u*(alpha))."""
    return _gap(problem, problem.theta_val, theta_star(problem, alpha))


def static_reference_field(problem, alpha, ref_alpha) -> np.ndarray:
    """DoReMi, unclipped, converged proxy: grad Gamma_w = L_i(w) - L_i(u*(alpha)), w = u*(ref_alpha)."""
    return _gap(problem, theta_star(problem, ref_alpha), theta_star(problem, alpha))


def fixed_point(field, m, **kw) -> Optimum:
    """Fixed point of exact mirror descent driven by ``field`` (a function alpha -> g)."""
    r = field_fixed_point(field, m, **kw)
    return Optimum(r.alpha, float("nan"), r.fw_gap, False, r.fw_gap < 1e-10, r.notes)


def kprobe_fixed_point(problem, K: int, eta: float | None = None) -> Optimum:
    return fixed_point(lambda a: kprobe_field(problem, a, K, eta), len(problem.domains))


def _twin_reset_fixed_point(problem, lam=None, K=None, eta=None, **_):
    if lam is None:
        return kprobe_fixed_point(problem, K, eta)
    return fixed_point(lambda a: twin_signal(problem, a, lam, K, eta), len(problem.domains))


def _static_fixed_point(problem, ref_alpha=None, **_):
    m = len(problem.domains)
    ref = np.full(m, 1.0 / m) if ref_alpha is None else np.asarray(ref_alpha, dtype=np.float64)
    return fixed_point(lambda a: static_reference_field(problem, a, ref), m)


# the fixed point of each reference schedule at a converged proxy, where theory.md 3.1 gives one
FIXED_POINTS = Registry("schedule with a fixed point", {
    "exact-twins": lambda problem, lam=None, **_: optimum_lambda(problem, lam),
    "twin-reset": _twin_reset_fixed_point,
    "lookahead": lambda problem, **_: fixed_point(lambda a: alignment_field(problem, a), len(problem.domains)),
    "static": _static_fixed_point,
    "val-only": lambda problem, **_: fixed_point(lambda a: valonly_field(problem, a), len(problem.domains)),
})


def schedule_fixed_point(problem, schedule: str, *, lam: float | None = None, K: int | None = None,
                         eta: float | None = None, ref_alpha=None) -> Optimum:
    """The fixed point of a reference schedule at a converged proxy, where theory.md 3.1 gives one:
      "exact-twins"  alpha*_lambda = argmin F_lambda (TANDEM with exact twins)
      "twin-reset"   the K-probe field at lambda (lam=None: the lambda -> infinity field with P_K)
      "lookahead"    DoGE: equal alignment <grad L_i, grad L_val> on the support
      "static"       DoReMi unclipped: ref_alpha (uniform by default), validation-agnostic
      "val-only"     argmin Gamma_val (static reference at argmin L_val)
    EMA-of-proxy has none (trajectory-dependent) and the persistent reference shares alpha*_lambda when stable."""
    return FIXED_POINTS.load(schedule)(problem, lam=lam, K=K, eta=eta, ref_alpha=ref_alpha)
