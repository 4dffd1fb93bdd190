"""The closed forms a controlled family may know, declared explicitly (theory.exact uses them).

A family that knows F, its batch, the hypergradient or the optimum in closed form subclasses
``ClosedForms`` and overrides what it knows; what it leaves at the default (None) theory.exact
computes generically from the population protocol of ``tandem_ref.problem.VectorProblem``
(``inner_solution``, ``losses_at``, ``grads_at``, ``val_grad_at``, ``inner_hessian``, ...).
"""

from __future__ import annotations


class ClosedForms:
    grid_step: float | None = None  # the M <= 3 grid that double-checks a numerical optimum (None: the caller's)

    def F_closed(self, alpha) -> float | None:
        """F(alpha) = L_val(theta*(alpha)) in closed form, or None."""
        return None

    def F_batch(self, alphas):
        """F on a batch of mixtures (n x M) at once, or None."""
        return None

    def hypergradient_closed(self, alpha):
        """d F / d alpha in closed form, or None."""
        return None

    def exact_optimum(self):
        """The certified optimum (a theory.exact.Optimum) in closed form, or None."""
        return None

    def fw_gap(self, alpha) -> float | None:
        """The Frank-Wolfe gap at alpha (a non-smooth family: the smallest over the subdifferential), or None."""
        return None


NONE = ClosedForms()  # what a problem that declares no closed form knows


def closed_forms(problem) -> ClosedForms:
    return problem if isinstance(problem, ClosedForms) else NONE
