"""Oracle: the exact bilevel optimum alpha* = argmin_{alpha in simplex} L_val(theta*(alpha)) of a controlled
problem (research/theory.md sections 1 and 5), so every table has a ceiling. It trains nothing; its cost is 0.

alpha* comes from ``theory.exact.optimum(problem)`` (the section 5 recipe, certified by a Frank-Wolfe gap).
``tandem_ref`` imports nothing from ``theory`` at module import time (DESIGN.md, direction of imports):
the import inside ``mixture`` below is the one allowed exception, lazy, at run time only. A problem
without an exact optimum (the LM, or any problem theory cannot solve) raises BadInput naming it.
"""

import numpy as np

from ..errors import BadInput
from ..simplex import validate_mixture
from .base import FixedMixtureMethod


class Oracle(FixedMixtureMethod):
    name = "oracle"
    summary = "the exact optimum alpha* of a controlled problem (theory families only)"

    def mixture(self, problem):
        label = getattr(problem, "name", None) or type(problem).__name__
        try:
            from theory.exact import optimum  # lazy: the one allowed tandem_ref -> theory import
        except ModuleNotFoundError as e:
            if e.name and e.name.startswith("theory"):
                raise BadInput(f"method 'oracle': problem {label!r} has no exact optimum "
                               "(the theory package is not installed)") from None
            raise
        try:
            opt = optimum(problem)
        except (AttributeError, NotImplementedError, TypeError, BadInput) as e:
            raise BadInput(f"method 'oracle': problem {label!r} has no exact optimum ({e})") from None
        a = np.clip(np.asarray(opt.alpha, dtype=np.float64), 0.0, None)  # solver round-off below 0
        return validate_mixture(a / a.sum(), problem.domains, name="oracle alpha*")
