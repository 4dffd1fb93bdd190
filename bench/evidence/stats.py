"""The statistics that decide the LM claims: paired intervals, the minimum detectable effect,
equivalence (two one-sided tests), ratios of means, and the precision a number may be printed to.

Every LM comparison is paired: one seed is one initialisation and one batch stream for every
method, so the unit of replication is the seed and the statistic is the per-seed difference
d_s = L_s(method) - L_s(baseline). With n seeds, mean d, standard deviation s and se = s / sqrt(n):

  superiority (method better: d < 0)   95% Student-t interval d +- t_{0.975, n-1} se; "holds" when
                                       its upper end is below 0, "contradicted" when its lower end
                                       is above 0, otherwise "inconclusive" and the row prints
  minimum detectable effect            the |d| a two-sided level-0.05 paired t-test detects with
                                       probability 0.8 at this n and s: the root of
                                       P(|T'| > t_{0.975, n-1}) = 0.8, T' ~ noncentral t(n-1,
                                       delta sqrt(n) / s); about (z_{0.975} + z_{0.8}) s / sqrt(n)
                                       = 2.80 s / sqrt(n) for large n
  equivalence within +-margin (TOST)   both one-sided level-0.05 tests reject, i.e. the 90%
                                       interval lies inside (-margin, margin); the smallest margin
                                       the data certify is |d| + t_{0.95, n-1} se
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

LEVEL = 0.95
POWER = 0.8


@dataclass(frozen=True)
class Paired:
    """A paired comparison over seeds: mean difference, its interval, spread and power."""

    mean: float
    low: float
    high: float
    n: int
    sd: float
    mde: float  # minimum detectable |difference| at 80% power

    @property
    def se(self) -> float:
        return self.sd / math.sqrt(self.n) if self.n > 0 else math.nan


def _finite(values) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    return v[np.isfinite(v)]


def t_interval(values, level: float = LEVEL) -> tuple[float, float, float, int]:
    """Mean and Student-t interval of the values (NaNs dropped): (mean, low, high, n)."""
    v = _finite(values)
    n = len(v)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    m = float(v.mean())
    if n == 1:
        return m, math.nan, math.nan, 1
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return m, m - half, m + half, n


def mde(sd: float, n: int, alpha: float = 1 - LEVEL, power: float = POWER) -> float:
    """Smallest true mean difference a two-sided paired t-test of level ``alpha`` on ``n`` pairs
    with spread ``sd`` detects with probability ``power`` (exact, noncentral t)."""
    if n < 2 or not (sd > 0 and math.isfinite(sd)):
        return math.nan if n < 2 else 0.0
    df, crit = n - 1, stats.t.ppf(1 - alpha / 2, n - 1)

    def gap(nc):  # power at noncentrality nc minus the target
        return stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc) - power

    hi = 2.0
    while gap(hi) < 0:  # bracket the root (nct's numerics fail far out, so never start there)
        hi *= 2
    if not math.isfinite(gap(hi)):  # at 1-2 degrees of freedom nct fails before the root: not determined
        return math.nan
    nc = optimize.brentq(gap, 0.0, hi, xtol=1e-12)
    return float(nc * sd / math.sqrt(n))


def mde_of_interval(low: float, high: float, level: float = LEVEL, power: float = POWER) -> float:
    """What an estimate with this (roughly normal) interval could have detected: the smallest true
    departure that a two-sided test of level 1 - ``level`` finds with probability ``power``,
    (z_(1+level)/2 + z_power) * se with se = (high - low) / (2 z_(1+level)/2). For intervals that are
    not t intervals of paired differences, such as LM-5's bootstrap interval of a ratio of means."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return math.nan
    z = float(stats.norm.ppf(0.5 + level / 2))
    return (z + float(stats.norm.ppf(power))) * (high - low) / (2 * z)


def paired(values, level: float = LEVEL) -> Paired:
    """The paired comparison of per-seed differences."""
    v = _finite(values)
    mean, lo, hi, n = t_interval(v, level)
    sd = float(v.std(ddof=1)) if n > 1 else math.nan
    return Paired(mean, lo, hi, n, sd, mde(sd, n) if n > 1 else math.nan)


def superiority(p: Paired) -> str:
    """'holds' (interval below 0), 'contradicted' (above 0) or 'inconclusive'."""
    if p.n < 2 or math.isnan(p.high):
        return "inconclusive"
    return "holds" if p.high < 0 else "contradicted" if p.low > 0 else "inconclusive"


def tost(values, margin: float, alpha: float = 1 - LEVEL) -> tuple[bool, float, float]:
    """Two one-sided tests of |mean| < margin: (equivalent, p-value, smallest margin certified).
    Equivalent when both one-sided level-alpha tests reject (the 1 - 2 alpha interval lies
    inside (-margin, margin))."""
    v = _finite(values)
    n = len(v)
    if n < 2:
        return False, math.nan, math.nan
    m, se = float(v.mean()), float(v.std(ddof=1) / math.sqrt(n))
    if se == 0:
        return abs(m) < margin, 0.0 if abs(m) < margin else 1.0, abs(m)
    p_low = stats.t.sf((m + margin) / se, n - 1)  # H0: mean <= -margin
    p_high = stats.t.cdf((m - margin) / se, n - 1)  # H0: mean >= +margin
    p = float(max(p_low, p_high))
    certified = abs(m) + float(stats.t.ppf(1 - alpha, n - 1)) * se
    return p < alpha, p, certified


def ratio_of_means(num, den, level: float = LEVEL, resamples: int = 4000, seed: int = 0):
    """mean(num) / mean(den) over paired seeds with a percentile bootstrap interval (seeds resampled
    as pairs; a fixed generator, so the interval is a function of the data): (ratio, low, high, n)."""
    a, b = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    n = len(a)
    if n == 0 or b.mean() == 0:
        return math.nan, math.nan, math.nan, n
    r = float(a.mean() / b.mean())
    if n < 3:
        return r, math.nan, math.nan, n
    idx = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    den_b = b[idx].mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        boot = a[idx].mean(axis=1) / den_b
    boot = boot[np.isfinite(boot)]
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return r, float(lo), float(hi), n


def decimals_for(half_width: float, floor: int = 1, cap: int = 4) -> int:
    """Decimal places a number with this interval half-width supports: the half-width's first
    significant digit is the last one printed (0.013 -> 2 places, 0.0042 -> 3)."""
    if not (half_width > 0 and math.isfinite(half_width)):
        return cap
    return int(min(cap, max(floor, -math.floor(math.log10(half_width)))))


def fmt(x: float, places: int) -> str:
    if x is None or not math.isfinite(x):
        return "–" if x is None or math.isnan(x) else ("∞" if x > 0 else "−∞")
    s = f"{x:.{places}f}"
    return "0" + s[2:] if s.startswith("-0") and float(s) == 0 else s.replace("-", "−")


def fmt_interval(mean: float, low: float, high: float, places: int | None = None) -> str:
    """'mean [low, high]' at the precision the interval supports (or ``places``)."""
    if places is None:
        places = decimals_for((high - low) / 2) if math.isfinite(low) and math.isfinite(high) else 3
    if not math.isfinite(low) or not math.isfinite(high):
        return fmt(mean, places)
    return f"{fmt(mean, places)} [{fmt(low, places)}, {fmt(high, places)}]"
