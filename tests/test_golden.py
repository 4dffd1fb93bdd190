"""Golden values: a few cells' numbers pinned, so that a refactor that changes behaviour fails CI.

Controlled problems only (float64, closed-form gradients): another CPU's kernels move these values
by rounding, about 1e-15 relative per operation, and every map below is contractive (the TANDEM,
DoGE and DoReMi iterations converge on this instance), so rounding differences shrink instead of
growing; 1e-9 absolute is 10^6 times that and still catches any change of a rule, a default, a
step size or an order of operations that matters (each of which moves these numbers by > 1e-6).
A deliberate behaviour change updates these numbers in the same commit and says so.
"""

import numpy as np
import pytest

from bench.problems import make_problem
from tandem_ref import get_method
from theory import exact

ATOL = 1e-9


@pytest.fixture(scope="module")
def family_a():
    return make_problem("quadratic", 0, {"pert": 1.5, "aniso": 5.0})


@pytest.mark.parametrize("name, params, budget, expected, grad_steps", [
    ("tandem", {}, 100, [0.7671146716734941, 0.23288532832650588, 0.0], 180),
    ("tandem", {"update": "mirror", "eta_alpha": 0.05}, 600,
     [0.7670986559716271, 0.23286819378127854, 3.315024709434976e-05], 1080),
    ("doremi", {}, 600, [0.3302555554392665, 0.3320834777998158, 0.3376609667609172], 1200),
    ("doge", {"mu": 1.0}, 600, [0.7643469502861485, 0.21432533708580012, 0.02132771262805158], 600),
])
def test_method_outputs_are_pinned(family_a, name, params, budget, expected, grad_steps):
    tr = get_method(name, **params).run(family_a, budget, 3)
    np.testing.assert_allclose(tr.output, expected, rtol=0, atol=ATOL)
    assert tr.cost["grad_steps"] == grad_steps


def test_exact_optimum_and_objective_are_pinned(family_a):
    opt = exact.optimum(family_a)
    np.testing.assert_allclose(opt.alpha, [0.7391128954142704, 0.2608871045857296, 0.0], atol=ATOL)
    assert opt.F == pytest.approx(4.495360429341698, abs=ATOL)
    assert exact.F(family_a, np.full(3, 1 / 3)) == pytest.approx(7.386973458453291, abs=ATOL)
    logistic = make_problem("logistic", 0, {})
    m = len(logistic.domains)
    assert exact.F(logistic, np.full(m, 1 / m)) == pytest.approx(0.03904355261462292, abs=ATOL)
