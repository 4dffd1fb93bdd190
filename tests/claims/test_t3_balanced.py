"""T3: balanced and abundant, claim (b)."""

from theory import exact
from theory.catalogue import t3_balanced as t3
from theory.families import make


def test_T3_1_uniform_is_optimal_and_methods_find_it(verdict):
    verdict(t3.T3_1())


def test_T3_2_single_draw_symmetry_breaking_rates(verdict):
    verdict(t3.T3_2())


def test_T3_3_expected_risk_uniform_for_every_n(verdict):
    verdict(t3.T3_3())


def test_T3_4_abundant_budget_half(verdict):
    verdict(t3.T3_4())


def test_T3_5_symmetric_domains_uniform(verdict):
    verdict(t3.T3_5())


def test_T3_6_unequal_noise_negative_control(verdict):
    verdict(t3.T3_6())
    d, N, delta, s1sq, s2sq = 10, 2000, 0.5, 1.0, 3.0
    p = make("budget_repetition", 0, delta=delta, s=[s1sq * d / N, s2sq * d / N], kappa=0.9)
    assert abs(exact.optimum(p).alpha[0] - (0.5 + d * (s2sq - s1sq) / (2 * N * delta))) < 1e-8


def test_T3_7_averaged_weights_biased_one_over_T(verdict):
    verdict(t3.T3_7())
