"""Uniform sampling: alpha_i = 1/M. Optimal when domains are balanced and abundant
(research/theory.md Proposition B1, the paper's Proposition 1)."""

from ..simplex import uniform
from .base import FixedMixtureMethod


class Uniform(FixedMixtureMethod):
    name = "uniform"
    summary = "alpha_i = 1/M (stratified sampling; optimal when domains are balanced and abundant)"

    def mixture(self, problem):
        return uniform(len(problem.domains))
