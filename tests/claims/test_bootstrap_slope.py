"""The claims table's slope intervals are 95% ones (theory/catalogue/common.py: bootstrap_slope).

Closed form: two points x = (1, e); row s of Y is (1, 1 + e_s) with small e_s, so the slope of
log mean_s Y against log x is log(1 + mean e) ~ mean e (to 1e-6 here). Resampling n rows, the
bootstrap mean of e is close to normal with sd = sd(e) / sqrt(n) (population sd, ddof 0), so a
central 95% percentile interval has half-width 1.96 sd, a 90% one 1.645 sd. With 4000 resamples the
2.5th percentile's Monte Carlo error is about 0.04 sd (sqrt(p(1-p)/N) / phi(1.96)), so the measured
half-width lies within 1.96 +- 0.1 sd: the band [1.85, 2.07] admits the 95% interval and excludes
the 90% one (and a 99% one, 2.58)."""

import numpy as np

from theory.catalogue.common import bootstrap_slope


def test_the_interval_is_a_central_95_percent_one():
    n = 50
    e = 1e-4 * np.random.default_rng(7).standard_normal(n)
    Y = np.stack([np.ones(n), 1.0 + e], axis=1)
    lo, hi = bootstrap_slope([1.0, np.e], Y, reps=4000, seed=0)
    sd = e.std() / np.sqrt(n)
    half = (hi - lo) / 2 / sd
    assert 1.85 <= half <= 2.07, half
    centre = np.log1p(e.mean())  # the full-sample slope, which a percentile interval straddles
    assert lo < centre < hi
    assert abs((lo + hi) / 2 - centre) < 0.15 * sd  # symmetric: the bootstrap mean is near normal
