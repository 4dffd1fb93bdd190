"""T4: imbalanced and scarce domains, claim (c) first part."""

import numpy as np

from theory import exact
from theory.catalogue import t4_imbalanced as t4
from theory.families import make


def test_T4_1_expected_risk_closed_forms(verdict):
    verdict(t4.T4_1())
    p = make("imbalanced", 1, d=10, N=2000, r=8.0, spread=0.1, expected=True)
    delta, d, (v1, v2) = float(np.sum((p.W[0] - p.W[1]) ** 2)), 10, p.v
    assert abs(exact.optimum(p).alpha[0] - (delta / 2 + d * v2) / (delta + d * (v1 + v2))) < 1e-8


def test_T4_2_budget_repetition_closed_forms(verdict):
    verdict(t4.T4_2())
    delta, s, kappa = 1.0, 0.05, 0.1
    a_l = (delta / 2 + s * (1 / kappa - 0.5)) / (delta + s / kappa)
    assert abs(exact.optimum(make("budget_repetition", 0, delta=delta, s=s, kappa=kappa)).alpha[0]
               - min(a_l, 1 - kappa)) < 1e-12


def test_T4_3_tandem_captures_design_gain(verdict):
    verdict(t4.T4_3())


def test_T4_4_doremi_gains_nothing(verdict):
    verdict(t4.T4_4())


def test_T4_5_tabular_scarce_domain(verdict):
    verdict(t4.T4_5())
