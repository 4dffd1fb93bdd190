"""The controlled families of research/theory.md section 5, each a tandem_ref Problem.

``make(family, seed, **params)`` builds an instance from a seed and parameters; ``from_spec(spec)`` builds
one from a JSON spec (a family name plus its arrays and parameters, or {"family", "seed", "params"}).
Every family takes ``noise`` (the stochastic mode of theory/stochastic.py: mini-batch noise in gradients,
losses and signals).
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from tandem_ref.errors import BadInput
from tandem_ref.names import Registry

from .budget import budget_from_spec, make_balanced_budget, make_budget
from .logistic import logistic_from_spec, make_logistic
from .quadratic import make_balanced, make_quadratic, make_symmetric, quadratic_from_spec
from .regression import make_balanced_samples, make_imbalanced
from .tabular import make_tabular, tabular_from_spec
from .twostage import make_two_stage, make_two_stage_example, two_stage_from_spec


@dataclass(frozen=True)
class Family:
    """A controlled family: what it is (one line), its maker ``(seed, **params) -> problem``, and,
    for a family whose JSON spec may carry its own arrays, the reader of such a spec and the key
    that marks one (else a spec is {"family", "seed", "params"})."""

    description: str
    make: Callable
    read_spec: Callable | None = None
    spec_key: str | None = None


FAMILIES = Registry("family", {
    "quadratic": Family("A: population linear regression; knobs pert (non-realizability) and aniso (curvature)",
                        make_quadratic, quadratic_from_spec, "H"),
    "balanced": Family("B1: balanced and abundant population quadratic, validation = uniform mixture "
                       "(alpha* = uniform)", make_balanced),
    "balanced_samples": Family("B2: finite-sample regression, equal n and noise (uniform is KKT in expectation)",
                               make_balanced_samples),
    "balanced_budget": Family("B3: fixed token budget, every domain abundant (kappa >= 1/2: a* = 1/2)",
                              make_balanced_budget, budget_from_spec, "delta"),
    "symmetric": Family("B4: c_i = b e_i, H_i = I, permutation-invariant validation (uniform by symmetry)",
                        make_symmetric),
    "imbalanced": Family("C1: finite-sample regression with n1/n2 = r (per draw, or expected=True for F_E)",
                         make_imbalanced),
    "budget_repetition": Family("C2: fixed token budget, scarce domain repeated (closed form a*, piecewise "
                                "quadratic)", make_budget, budget_from_spec, "delta"),
    "tabular": Family("D: tabular softmax with Dirichlet conditionals and pseudo-count tau (closed form, "
                      "non-quadratic)", make_tabular, tabular_from_spec, "counts"),
    "logistic": Family("E: multinomial logistic regression, Newton inner solve, implicit hypergradient",
                       make_logistic, logistic_from_spec, "X"),
    "two_stage": Family("F: pre-train on the mixture then fine-tune (ridge-to-init or GD); validation metric "
                        "S^T V S", make_two_stage, two_stage_from_spec, "H"),
    "two_stage_example": Family("F: the closed-form two-block example (a*_two = s^2 / (1 + s^2))",
                                make_two_stage_example),
})


def descriptions() -> dict[str, str]:
    return {name: f.description for name, f in FAMILIES.items()}


def make(family: str, seed: int = 0, **params):
    fn = FAMILIES.load(family).make
    allowed = [p for p in inspect.signature(fn).parameters if p != "seed"]
    for k in params:
        if k not in allowed:
            raise BadInput(f"params.{k}: unknown parameter of family {family!r} (known: {', '.join(allowed)})")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise BadInput(f"seed: expected a non-negative integer, got {seed!r}")
    sig = inspect.signature(fn).parameters
    for k, v in params.items():
        _check_param(f"params.{k}", v, sig[k].default)
    try:
        return fn(seed=seed, **params)
    except (TypeError, ValueError) as e:
        if isinstance(e, BadInput):
            raise
        raise BadInput(f"params: family {family!r}: {e}") from None


def _check_param(name: str, value, default) -> None:
    """A family parameter of the type its default has: an integer where the default is one (3, not
    "3" or 2.5), a finite number where it is a float, finite numbers in a list; BadInput naming it."""
    def finite(x):
        return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)

    if isinstance(default, bool) or value is None:
        return
    if isinstance(default, int):
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
            raise BadInput(f"{name}: expected an integer, got {value!r}")
    elif isinstance(value, (int, float, str, bool)):
        if isinstance(default, float) and not finite(value):
            raise BadInput(f"{name}: expected a finite number, got {value!r}")
    if isinstance(value, (list, tuple)):  # a vector parameter (beta, per-domain s): finite numbers
        flat = list(np.ravel(np.asarray(value, dtype=object)))
        if not any(isinstance(x, str) for x in flat) and not all(finite(x) for x in flat):  # names pass
            raise BadInput(f"{name}: expected finite numbers, got {value!r}")


def from_spec(spec: dict):
    """Build a problem from a JSON spec; malformed specs raise BadInput naming the field."""
    if not isinstance(spec, dict):
        raise BadInput("spec: expected a JSON object with a 'family' field")
    fam = spec.get("family")
    if fam is None:
        raise BadInput("family: missing field")
    if not isinstance(fam, str) or fam not in FAMILIES:
        raise BadInput(f"family: unknown family {fam!r} (known: {', '.join(sorted(FAMILIES))})")
    generated = {"family", "seed", "params"}
    f = FAMILIES[fam]
    if f.read_spec is not None and (f.spec_key in spec or not set(spec) <= generated):
        return f.read_spec(spec)  # the family's own arrays: the reader names what is missing
    extra = sorted(set(spec) - generated)
    if extra:
        raise BadInput(f"{extra[0]}: unknown field; a generated {fam!r} spec has only seed and params")
    params = spec.get("params", {})
    if not isinstance(params, dict):
        raise BadInput("params: expected a JSON object of family parameters")
    return make(fam, spec.get("seed", 0), **params)
