"""The controlled families of research/theory.md section 5, each a tandem_ref Problem.

``make(family, seed, **params)`` builds an instance from a seed and parameters; ``from_spec(spec)`` builds
one from a JSON spec (a family name plus its arrays and parameters, or {"family", "seed", "params"}).
Every family takes ``noise`` (the stochastic mode of theory/stochastic.py: mini-batch noise in gradients,
losses and signals).
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from tandem_ref.errors import BadInput, unknown

from .budget import budget_from_spec, make_balanced_budget, make_budget
from .logistic import logistic_from_spec, make_logistic
from .quadratic import make_balanced, make_quadratic, make_symmetric, quadratic_from_spec
from .regression import make_balanced_samples, make_imbalanced
from .tabular import make_tabular, tabular_from_spec
from .twostage import make_two_stage, make_two_stage_example, two_stage_from_spec

FAMILIES: dict[str, str] = {
    "quadratic": "A: population linear regression; knobs pert (non-realizability) and aniso (curvature)",
    "balanced": "B1: balanced and abundant population quadratic, validation = uniform mixture (alpha* = uniform)",
    "balanced_samples": "B2: finite-sample regression, equal n and noise (uniform is KKT in expectation)",
    "balanced_budget": "B3: fixed token budget, every domain abundant (kappa >= 1/2: a* = 1/2)",
    "symmetric": "B4: c_i = b e_i, H_i = I, permutation-invariant validation (uniform by symmetry)",
    "imbalanced": "C1: finite-sample regression with n1/n2 = r (per draw, or expected=True for F_E)",
    "budget_repetition": "C2: fixed token budget, scarce domain repeated (closed form a*, piecewise quadratic)",
    "tabular": "D: tabular softmax with Dirichlet conditionals and pseudo-count tau (closed form, non-quadratic)",
    "logistic": "E: multinomial logistic regression, Newton inner solve, implicit hypergradient",
    "two_stage": "F: pre-train on the mixture then fine-tune (ridge-to-init or GD); validation metric S^T V S",
    "two_stage_example": "F: the closed-form two-block example (a*_two = s^2 / (1 + s^2))",
}

MAKERS = {
    "quadratic": make_quadratic, "balanced": make_balanced, "balanced_samples": make_balanced_samples,
    "balanced_budget": make_balanced_budget, "symmetric": make_symmetric, "imbalanced": make_imbalanced,
    "budget_repetition": make_budget, "tabular": make_tabular, "logistic": make_logistic,
    "two_stage": make_two_stage, "two_stage_example": make_two_stage_example,
}

# families whose JSON spec carries its own arrays / numbers (else the spec is {"family", "seed", "params"})
SPEC_READERS = {
    "quadratic": (quadratic_from_spec, "H"),
    "budget_repetition": (budget_from_spec, "delta"),
    "balanced_budget": (budget_from_spec, "delta"),
    "two_stage": (two_stage_from_spec, "H"),
    "tabular": (tabular_from_spec, "counts"),
    "logistic": (logistic_from_spec, "X"),
}


def make(family: str, seed: int = 0, **params):
    if family not in MAKERS:
        raise unknown("family", family, MAKERS)
    fn = MAKERS[family]
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
    if not isinstance(fam, str) or fam not in MAKERS:
        raise BadInput(f"family: unknown family {fam!r} (known: {', '.join(sorted(MAKERS))})")
    generated = {"family", "seed", "params"}
    if fam in SPEC_READERS and (SPEC_READERS[fam][1] in spec or not set(spec) <= generated):
        return SPEC_READERS[fam][0](spec)  # the family's own arrays: the reader names what is missing
    extra = sorted(set(spec) - generated)
    if extra:
        raise BadInput(f"{extra[0]}: unknown field; a generated {fam!r} spec has only seed and params")
    params = spec.get("params", {})
    if not isinstance(params, dict):
        raise BadInput("params: expected a JSON object of family parameters")
    return make(fam, spec.get("seed", 0), **params)
