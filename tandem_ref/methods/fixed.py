"""A fixed mixture given by the user: the points of an empirical-optimum grid (every one trained and
scored with the same protocol as the methods' mixtures), or any mixture to compare against.

``weights``: a list in the problem's domain order, or a table domain -> weight (the order-free
form); validated on the simplex (finite, non-negative, summing to 1 within 1e-6, then renormalised).
"""

from ..errors import BadInput
from ..simplex import validate_mixture
from .base import FixedMixtureMethod


class Fixed(FixedMixtureMethod):
    name = "fixed"
    summary = "a given mixture (a point of an empirical-optimum grid)"
    defaults = {"weights": None}

    def check(self):
        w = self.params["weights"]
        if not isinstance(w, (list, tuple, dict)) or not w:
            raise BadInput(f"method 'fixed': parameter 'weights' must be a list or a table domain -> weight, got {w!r}")

    def mixture(self, problem):
        return validate_mixture(self.params["weights"], problem.domains, name="method 'fixed': parameter 'weights'")
