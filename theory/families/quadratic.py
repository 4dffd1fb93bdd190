"""Family A (quadratic / population linear regression) and the population balanced families B1, B4.

Family A (theory.md section 5): L_i = 1/2 (theta - c_i)^T H_i (theta - c_i), H_i eigenvalues log-uniform
in [1, aniso]; L_val = 1/2 (theta - theta_v)^T V (theta - theta_v) with the validation a beta-mixture of
perturbed domain optima c_i + pert xi_i (pert = 0: realizable, P5). All of it is
tandem_ref.quadratic.QuadraticProblem; this module only builds instances.

B1 (balanced and abundant): validation = the beta-mixture of the same population risks with the same
regulariser, so F(alpha) >= min L_val = F(beta): beta (uniform) is a global minimiser for every lambda.
B4 (symmetry): c_i = b e_i, H_i = I, and a permutation-invariant L_val (V = I + coupling 11^T,
theta_v = target 1): F is invariant under permutations and convex, so uniform is optimal.
"""

from __future__ import annotations

import numpy as np

from tandem_ref.errors import BadInput
from tandem_ref.quadratic import QuadraticProblem

from ..stochastic import stochastic
from . import spec as S


def _tag(problem, family, **params):
    problem.family = family
    problem.params = params
    return problem


def make_quadratic(seed=0, m=3, d=6, aniso=5.0, pert=0.0, ridge=0.0, beta=None, shared_curvature=False,
                   noise=0.0, domains=None, sizes=None):
    if m < 1 or d < 1:
        raise BadInput(f"m, d: expected positive sizes, got m={m}, d={d}")
    if aniso < 1:
        raise BadInput(f"aniso: expected a number >= 1, got {aniso}")
    p = QuadraticProblem.random(m=m, d=d, aniso=aniso, pert=pert, seed=seed, ridge=ridge, beta=beta,
                                shared_curvature=shared_curvature, domains=domains, sizes=sizes)
    return stochastic(_tag(p, "quadratic", seed=seed, m=m, d=d, aniso=aniso, pert=pert, ridge=ridge,
                           shared_curvature=shared_curvature), noise)


def make_balanced(seed=0, m=3, d=6, aniso=5.0, ridge=0.0, shared_curvature=True, beta=None, noise=0.0):
    """B1: realizable (pert = 0), the validation shares the inner regulariser; beta defaults to uniform."""
    p = make_quadratic(seed, m=m, d=d, aniso=aniso, pert=0.0, ridge=ridge, beta=beta,
                       shared_curvature=shared_curvature, noise=noise)
    return _tag(p, "balanced", seed=seed, m=m, d=d, aniso=aniso, ridge=ridge, shared_curvature=shared_curvature)


def make_symmetric(seed=0, m=3, b=1.0, target=0.5, coupling=0.0, noise=0.0):
    """B4: c_i = b e_i, H_i = I (d = M), V = I + coupling 11^T, theta_v = target 1. ``seed`` is unused
    (the instance is fixed by its symmetry) and kept for a uniform interface."""
    d = m
    V = np.eye(d) + coupling * np.ones((d, d))
    if np.linalg.eigvalsh(V)[0] <= 0:
        raise BadInput(f"coupling: V = I + coupling 11^T must be positive definite (coupling > {-1 / d:.3g})")
    p = QuadraticProblem(np.stack([np.eye(d)] * m), b * np.eye(m), V, np.full(d, float(target)))
    return stochastic(_tag(p, "symmetric", m=m, b=b, target=target, coupling=coupling), noise)


def quadratic_from_spec(spec: dict):
    """The fixed Family A spec form of issue 3: {"family": "quadratic", "domains", "H", "c", "V",
    "theta_val", "ridge" (optional, 0)}; H_i must be symmetric positive definite (semidefinite when
    ridge > 0), V symmetric positive semidefinite."""
    S.known_keys(spec, ["domains", "H", "c", "V", "theta_val", "ridge", "noise", "sizes"], "quadratic")
    H = S.array(spec, "H", 3)
    m, d = H.shape[0], H.shape[1]
    if H.shape[2] != d or m == 0 or d == 0:
        raise BadInput(f"H: expected M matrices d x d, got shape {list(H.shape)}")
    ridge = S.number(spec, "ridge", 0.0, nonneg=True)
    for i in range(m):
        S.check_psd(H[i], f"H[{i}]", strict=ridge == 0)
    c = S.array(spec, "c", 2)
    S.check_shape(c, (m, d), "c", f"{m} vectors of length {d}")
    V = S.array(spec, "V", 2)
    S.check_shape(V, (d, d), "V", f"a {d} x {d} matrix")
    S.check_psd(V, "V", strict=False)
    tv = S.array(spec, "theta_val", 1)
    S.check_shape(tv, (d,), "theta_val", f"a vector of length {d}")
    names = S.domains(spec, m)
    sizes = S.array(spec, "sizes", 1, None)
    if sizes is not None:
        S.check_shape(sizes, (m,), "sizes", f"{m} domain sizes")
    p = QuadraticProblem(H, c, V, tv, ridge=ridge, domains=names, sizes=sizes)
    return stochastic(_tag(p, "quadratic"), S.number(spec, "noise", 0.0, nonneg=True))
