"""Natural mixture: each domain in proportion to its size (sampling the pooled corpus)."""

from ..schedules import natural_mixture
from .base import FixedMixtureMethod


class Natural(FixedMixtureMethod):
    name = "natural"
    summary = "alpha_i proportional to domain size (the pooled corpus as it comes)"

    def mixture(self, problem):
        return natural_mixture(problem)
