"""Rank agreement across model sizes (bench.evidence.agreement): decision accuracy as DataDecide defines
it, Spearman's rho, the bootstrap over seeds, the noise floor, and RegMix's published 1M / 60M runs."""

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from bench.evidence import agreement

REGMIX = Path(__file__).resolve().parents[2].parent / "shared" / "research" / "external" / "regmix"


def test_decision_accuracy_counts_pairs_ordered_alike():
    a = np.arange(6.0)
    assert agreement.decision_accuracy(a, a) == 1.0
    assert agreement.decision_accuracy(a, -a) == 0.0
    b = a.copy()
    b[[2, 3]] = b[[3, 2]]  # one adjacent swap: one pair of C(6, 2) = 15 disagrees
    assert agreement.decision_accuracy(a, b) == pytest.approx(14 / 15, abs=0)
    c = a.copy()
    c[[0, 5]] = c[[5, 0]]  # the extremes swapped: pairs (0, j) and (j, 5) for 0 < j < 5, and (0, 5): 9 of 15
    assert agreement.decision_accuracy(a, c) == pytest.approx(6 / 15, abs=0)
    # a pair tied at one size counts one half (the expectation of an arbitrary tie break)
    assert agreement.decision_accuracy([1.0, 1.0, 2.0], [1.0, 2.0, 3.0]) == pytest.approx((0.5 + 1 + 1) / 3, abs=0)


def test_decision_accuracy_does_not_depend_on_the_order_mixtures_are_listed_in():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=9), rng.normal(size=9)
    p = rng.permutation(9)
    assert agreement.decision_accuracy(a, b) == agreement.decision_accuracy(a[p], b[p])
    # and it is the brute-force count of concordant pairs
    pairs = list(itertools.combinations(range(9), 2))
    agree = sum((a[i] - a[j]) * (b[i] - b[j]) > 0 for i, j in pairs)
    assert agreement.decision_accuracy(a, b) == agree / len(pairs)


def test_spearman_is_the_rank_formula_without_ties():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=12), rng.normal(size=12)
    ra, rb = a.argsort().argsort(), b.argsort().argsort()
    n = len(a)
    closed = 1 - 6 * float(((ra - rb) ** 2).sum()) / (n * (n * n - 1))
    assert agreement.spearman(a, b) == pytest.approx(closed, abs=1e-12)
    assert math.isnan(agreement.spearman(np.ones(4), a[:4]))  # a constant side has no ranking


def test_the_bootstrap_over_seeds_is_seeded_and_brackets_the_point():
    rng = np.random.default_rng(2)
    truth = np.linspace(0, 1, 8)[:, None]
    small, large = truth + rng.normal(0, 0.3, (8, 4)), truth + rng.normal(0, 0.05, (8, 4))
    one = agreement.across_seeds(small, large, agreement.decision_accuracy)
    assert one == agreement.across_seeds(small, large, agreement.decision_accuracy)  # a pure function of the data
    point, low, high = one
    assert point == agreement.decision_accuracy(small.mean(1), large.mean(1))
    assert 0 <= low <= high <= 1
    # noise-free identical orderings: every resample agrees perfectly, so the interval is the point
    exact = agreement.across_seeds(np.repeat(truth, 3, 1), np.repeat(2 * truth, 5, 1), agreement.spearman)
    assert exact == (1.0, 1.0, 1.0)


def test_the_noise_floor_uses_every_split_of_the_seeds_once():
    rng = np.random.default_rng(3)
    m = rng.normal(size=(6, 4))
    mean, lo, hi, splits = agreement.noise_floor(m, agreement.decision_accuracy)
    assert splits == 3  # C(4, 2) / 2 unordered splits into two halves
    by_hand = [agreement.decision_accuracy(m[:, list(h)].mean(1), m[:, [c for c in range(4) if c not in h]].mean(1))
               for h in ((0, 1), (0, 2), (0, 3))]
    assert (mean, lo, hi) == pytest.approx((np.mean(by_hand), min(by_hand), max(by_hand)), abs=1e-15)


@pytest.mark.skipif(not REGMIX.is_dir(), reason="../shared/research/external/regmix is absent")
def test_regmix_1m_against_60m_on_their_256_shared_mixtures():
    pairs = agreement.regmix_pairs(REGMIX)
    assert [(a, b, len(x)) for a, b, x, _ in pairs] == [("1m", "60m", 256)]  # 1B trained 64 other mixtures
    _, _, x, y = pairs[0]
    rx, ry = x.argsort().argsort(), y.argsort().argsort()
    n = len(x)
    closed = 1 - 6 * float(((rx - ry) ** 2).sum()) / (n * (n * n - 1))
    assert agreement.spearman(x, y) == pytest.approx(closed, abs=1e-12)
    assert round(closed, 3) == 0.994  # the figure, from the same two files
    assert 0.9 < agreement.decision_accuracy(x, y) < 1.0
