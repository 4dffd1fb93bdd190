"""Mixtures on the probability simplex: projection, mirror steps, smoothing, averaging, validation."""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

from .errors import BadInput

SUM_TOL = 1e-9


def project_simplex(v) -> np.ndarray:
    """Euclidean projection onto {a >= 0, sum a = 1} (sort-based, O(M log M); Held et al. 1974,
    Duchi et al. 2008). Shift-invariant, so the max is subtracted first for huge inputs."""
    v = np.asarray(v, dtype=np.float64)
    if v.ndim != 1 or v.size == 0:
        raise BadInput(f"project_simplex: expected a non-empty vector, got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise BadInput("project_simplex: vector has a non-finite entry")
    v = v - v.max()
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - 1.0
    ind = np.arange(1, v.size + 1)
    rho = np.nonzero(u - css / ind > 0)[0][-1]
    theta = css[rho] / (rho + 1.0)
    return np.maximum(v - theta, 0.0)


def mirror_step(alpha, score, eta: float) -> np.ndarray:
    """Exponentiated-gradient (entropic mirror) ascent step: a_i <- a_i exp(eta s_i) / Z.

    Done in log space with a max shift, so huge scores do not overflow. Zero weights stay zero
    (the face of the simplex is invariant under multiplicative updates)."""
    alpha = np.asarray(alpha, dtype=np.float64)
    score = np.asarray(score, dtype=np.float64)
    if not np.all(np.isfinite(score)):
        raise BadInput("mirror_step: score has a non-finite entry")
    with np.errstate(divide="ignore"):
        z = np.log(alpha) + eta * score
    z = z - z.max()
    e = np.exp(z)
    return e / e.sum()


def projected_step(alpha, score, eta: float) -> np.ndarray:
    """Euclidean projected ascent step: a <- Pi_simplex(a + eta s)."""
    return project_simplex(np.asarray(alpha, dtype=np.float64) + eta * np.asarray(score, dtype=np.float64))


def smooth(alpha, eps: float) -> np.ndarray:
    """Mix with the uniform distribution: (1 - eps) a + eps / M (DoReMi's c, DoGE's reweight_eps)."""
    alpha = np.asarray(alpha, dtype=np.float64)
    if eps == 0:
        return alpha
    return (1.0 - eps) * alpha + eps / alpha.size


def uniform(m: int) -> np.ndarray:
    return np.full(m, 1.0 / m)


class RunningAverage:
    """Running mean of the mixtures seen so far (DoReMi and DoGE return the time average)."""

    def __init__(self, m: int, count: int = 0, mean=None):
        self.count = count
        self.mean = np.zeros(m) if mean is None else np.asarray(mean, dtype=np.float64).copy()

    def add(self, x) -> None:
        self.count += 1
        self.mean = self.mean + (np.asarray(x, dtype=np.float64) - self.mean) / self.count

    def value(self, fallback) -> np.ndarray:
        return self.mean.copy() if self.count else np.asarray(fallback, dtype=np.float64).copy()


def validate_mixture(alpha, domains: Sequence[str] | None = None, name: str = "mixture") -> np.ndarray:
    """Check a mixture and return it as a float64 array in domain order.

    Accepts a sequence of weights or a mapping domain -> weight. Finite, non-negative, one weight
    per named domain, summing to 1 within 1e-9. The error names what is wrong."""
    if isinstance(alpha, Mapping):
        if domains is None:
            domains = list(alpha)
        extra = [k for k in alpha if k not in domains]
        if extra:
            raise BadInput(f"{name}: weight for unknown domain {extra[0]!r} (domains: {', '.join(domains)})")
        missing = [d for d in domains if d not in alpha]
        if missing:
            raise BadInput(f"{name}: no weight for domain {missing[0]!r}")
        values = [alpha[d] for d in domains]
    else:
        values = list(alpha) if not isinstance(alpha, np.ndarray) else alpha.tolist()
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise BadInput(f"{name}: weights must be numbers, got {values!r}") from None
    if a.ndim != 1 or a.size == 0:
        raise BadInput(f"{name}: expected a non-empty list of weights")
    if domains is not None and a.size != len(domains):
        raise BadInput(f"{name}: {a.size} weights for {len(domains)} domains")
    label = (lambda i: f"domain {domains[i]!r}") if domains is not None else (lambda i: f"index {i}")
    for i, x in enumerate(a):
        if math.isnan(x):
            raise BadInput(f"{name}: weight for {label(i)} is NaN")
        if math.isinf(x):
            raise BadInput(f"{name}: weight for {label(i)} is infinite")
        if x < 0:
            raise BadInput(f"{name}: weight for {label(i)} is negative ({x})")
    if abs(a.sum() - 1.0) > SUM_TOL:
        raise BadInput(f"{name}: weights sum to {a.sum()!r}, not 1 (tolerance 1e-9)")
    return a
