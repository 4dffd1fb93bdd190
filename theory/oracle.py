"""Oracle: the exact bilevel optimum alpha* = argmin_{alpha in simplex} L_val(theta*(alpha)) of a controlled
problem (research/theory.md sections 1 and 5), so every table has a ceiling. It trains nothing; its cost is 0.

alpha* comes from ``theory.exact.optimum(problem)`` (the section 5 recipe, certified by a Frank-Wolfe gap).
It lives with the exact solvers and is registered from here (``theory/__init__.py``), so ``tandem_ref``
never imports ``theory``. A problem without an exact optimum (the LM, or any problem theory cannot solve)
raises BadInput naming it.
"""

import numpy as np

from tandem_ref.errors import BadInput
from tandem_ref.methods.base import FixedMixtureMethod
from tandem_ref.simplex import validate_mixture

from .exact import optimum


class Oracle(FixedMixtureMethod):
    name = "oracle"
    summary = "the exact optimum alpha* of a controlled problem (theory families only)"

    def mixture(self, problem):
        label = getattr(problem, "name", None) or type(problem).__name__
        try:
            opt = optimum(problem)
        except (AttributeError, NotImplementedError, TypeError, BadInput) as e:
            raise BadInput(f"method 'oracle': problem {label!r} has no exact optimum ({e})") from None
        a = np.clip(np.asarray(opt.alpha, dtype=np.float64), 0.0, None)  # solver round-off below 0
        return validate_mixture(a / a.sum(), problem.domains, name="oracle alpha*")
