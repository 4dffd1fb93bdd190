"""A family's values do not depend on what was computed before them on the same object (the
logistic family once warm-started Newton from its last solve: F(uniform) moved in the 13th digit
depending on whether the optimum had been computed first, so scores differed between --jobs 1 and
--jobs 2 and between an interrupted and an uninterrupted sweep)."""

import numpy as np

from theory import exact
from theory.families import make as make_family


def test_logistic_values_are_independent_of_the_order_of_computation():
    fresh = make_family("logistic", 0)
    m = len(fresh.domains)
    u = np.full(m, 1.0 / m)
    first = exact.F(fresh, u)
    used = make_family("logistic", 0)
    for a in np.random.default_rng(0).dirichlet(np.ones(m), 3):  # solves at other mixtures first
        exact.F(used, a)
    assert exact.F(used, u) == first  # bitwise
