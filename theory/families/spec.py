"""Reading JSON specs: every error is a BadInput whose one-line message names the field."""

from __future__ import annotations

import math

import numpy as np

from tandem_ref.errors import BadInput

_MISSING = object()


def field(spec: dict, key: str, default=_MISSING):
    if key not in spec:
        if default is _MISSING:
            raise BadInput(f"{key}: missing field (family {spec.get('family')!r})")
        return default
    return spec[key]


def number(spec, key, default=_MISSING, *, positive=False, nonneg=False, integer=False):
    v = field(spec, key, default)
    if v is None:
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise BadInput(f"{key}: expected a finite number, got {v!r}")
    if integer and v != int(v):
        raise BadInput(f"{key}: expected an integer, got {v!r}")
    if positive and not v > 0:
        raise BadInput(f"{key}: expected a positive number, got {v!r}")
    if nonneg and v < 0:
        raise BadInput(f"{key}: expected a non-negative number, got {v!r}")
    return int(v) if integer else float(v)


def array(spec, key, ndim: int, default=_MISSING) -> np.ndarray:
    v = field(spec, key, default)
    if v is None:
        return v
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        raise BadInput(f"{key}: expected a {ndim}-d array of numbers (ragged or non-numeric)") from None
    if a.ndim != ndim:
        raise BadInput(f"{key}: expected a {ndim}-d array, got {a.ndim}-d with shape {list(a.shape)}")
    if not np.all(np.isfinite(a)):
        raise BadInput(f"{key}: has a non-finite entry")
    return a


def check_shape(a, shape, key, what):
    if a.shape != tuple(shape):
        raise BadInput(f"{key}: expected {what} (shape {list(shape)}), got shape {list(a.shape)}")


def check_psd(A, key, *, strict: bool, tol: float = 1e-10):
    """Symmetric and positive (semi)definite, else BadInput naming ``key``."""
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise BadInput(f"{key}: expected a square matrix, got shape {list(A.shape)}")
    scale = max(1.0, float(np.abs(A).max()))
    if not np.allclose(A, A.T, rtol=0, atol=1e-10 * scale):
        raise BadInput(f"{key}: matrix is not symmetric")
    lo = float(np.linalg.eigvalsh(A)[0])
    if strict and lo <= tol * scale:
        raise BadInput(f"{key}: matrix is not positive definite (smallest eigenvalue {lo:.3g})")
    if not strict and lo < -tol * scale:
        raise BadInput(f"{key}: matrix is not positive semidefinite (smallest eigenvalue {lo:.3g})")


def domains(spec, m, default_prefix="d"):
    names = field(spec, "domains", None)
    if names is None:
        return [f"{default_prefix}{i}" for i in range(m)]
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise BadInput("domains: expected a list of non-empty names")
    if len(names) != m:
        raise BadInput(f"domains: {len(names)} names for {m} domains")
    if len(set(names)) != len(names):
        raise BadInput("domains: names must be distinct")
    return names


def mixture(spec, key, m, default=_MISSING):
    v = field(spec, key, default)
    if v is None:
        return None
    a = array({key: v}, key, 1)
    if a.size != m or np.any(a < 0) or abs(a.sum() - 1) > 1e-9:
        raise BadInput(f"{key}: expected {m} non-negative weights summing to 1")
    return a


def known_keys(spec, allowed, family):
    extra = sorted(set(spec) - set(allowed) - {"family"})
    if extra:
        raise BadInput(f"{extra[0]}: unknown field for family {family!r} (known: {', '.join(sorted(allowed))})")
