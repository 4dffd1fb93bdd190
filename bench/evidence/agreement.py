"""Do small models order mixtures as larger ones do? Rank correlation and decision accuracy across sizes.

Two statistics of the same mixtures trained at two sizes (one mean loss per mixture and size):

- Spearman's rho of the mixtures' losses (RegMix, Olmix);
- decision accuracy (DataDecide, Magnusson et al. 2025: its ``compute_2_class``): the share of all
  pairs of mixtures that the small size orders as the target size does. DataDecide ranks by a sort,
  which breaks a tie by position; here a pair tied at either size counts one half, the expectation
  of that arbitrary break, so the statistic does not depend on the order the mixtures are listed in.

Intervals: a percentile bootstrap that resamples what varies: seeds (the columns), independently at
each size, for our runs (seed ``s`` at one size and seed ``s`` at another share nothing); mixtures
(the rows) for RegMix's tables, which have one run per mixture. The noise floor is the largest
size's agreement with itself: the mean, over every split of its seeds into two disjoint halves, of
the statistic between the halves' means (with half the seeds each side, so it understates how well
the full-seed means agree with a rerun: a floor, not a ceiling).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
from scipy import stats as sps

BOOT = 2000  # bootstrap resamples; seeded, so every interval is a pure function of the data


def decision_accuracy(a, b) -> float:
    """Share of pairs i < j ordered alike by ``a`` and ``b`` (lower is better in both; a tie at
    either side counts 1/2)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise ValueError(f"decision accuracy needs two equal-length vectors of at least 2, got {a.shape}, {b.shape}")
    i, j = np.triu_indices(len(a), k=1)
    s = np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])
    return float(np.mean(np.where(s > 0, 1.0, np.where(s < 0, 0.0, 0.5))))


def spearman(a, b) -> float:
    """Spearman's rank correlation (average ranks for ties); NaN when either side is constant."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(sps.spearmanr(a, b).statistic)


STATISTICS = {"spearman": spearman, "decision accuracy": decision_accuracy}


def _percentile(values, point) -> tuple[float, float, float]:
    v = np.asarray([x for x in values if np.isfinite(x)])
    if not len(v):
        return point, float("nan"), float("nan")
    return point, float(np.quantile(v, 0.025)), float(np.quantile(v, 0.975))


def across_seeds(small: np.ndarray, large: np.ndarray, stat, seed: int = 0) -> tuple[float, float, float]:
    """The statistic between the seed means of ``small`` and ``large`` (mixtures x seeds each), with a
    95% bootstrap interval resampling each side's seeds independently."""
    small, large = np.asarray(small, dtype=np.float64), np.asarray(large, dtype=np.float64)
    point = stat(small.mean(axis=1), large.mean(axis=1))
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(BOOT):
        i = rng.integers(0, small.shape[1], small.shape[1])
        j = rng.integers(0, large.shape[1], large.shape[1])
        boots.append(stat(small[:, i].mean(axis=1), large[:, j].mean(axis=1)))
    return _percentile(boots, point)


def across_rows(a, b, stat, seed: int = 0) -> tuple[float, float, float]:
    """The statistic between ``a`` and ``b`` (one value per mixture), bootstrap over mixtures."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(BOOT):
        i = rng.integers(0, len(a), len(a))
        boots.append(stat(a[i], b[i]))
    return _percentile(boots, stat(a, b))


def noise_floor(large: np.ndarray, stat) -> tuple[float, float, float, int]:
    """(mean, min, max, number of splits) of the statistic between the means of two disjoint halves
    of the seeds (columns), over every such split (each unordered split once)."""
    large = np.asarray(large, dtype=np.float64)
    n = large.shape[1]
    if n < 2:
        return float("nan"), float("nan"), float("nan"), 0
    cols = range(n)
    values = []
    for half in itertools.combinations(cols, n // 2):
        if 0 not in half:  # each unordered split once
            continue
        other = [c for c in cols if c not in half][: n // 2]
        values.append(stat(large[:, list(half)].mean(axis=1), large[:, other].mean(axis=1)))
    v = np.asarray(values)
    return float(np.nanmean(v)), float(np.nanmin(v)), float(np.nanmax(v)), len(values)


# --- RegMix's published proxy runs (../shared/research/external/regmix) ---------------------------

REGMIX_TARGET = "metric/the_pile_pile_cc_val_loss"  # the target RegMix's authors use


def regmix_pairs(folder: Path) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """(small size, large size, small losses, large losses) for each pair of RegMix's test tables that
    trained the same mixtures (joined on ``index``; the mixture files must agree): 1M and 60M share 256
    mixtures; the 1B runs used 64 others, so no pair with 1B exists."""
    import pandas as pd

    folder = Path(folder)
    sizes = ["1m", "60m", "1B"]
    loss = {s: pd.read_csv(folder / f"test_pile_loss_{s}.csv").set_index("index") for s in sizes}
    mix = {s: pd.read_csv(folder / f"test_mixture_{s}.csv").set_index("index") for s in sizes}
    out = []
    for a, b in itertools.combinations(sizes, 2):
        common = mix[a].index.intersection(mix[b].index)
        same = common[(mix[a].loc[common].to_numpy() == mix[b].loc[common].to_numpy()).all(axis=1)]
        if len(same) >= 2:
            out.append((a, b, loss[a].loc[same, REGMIX_TARGET].to_numpy(np.float64),
                        loss[b].loc[same, REGMIX_TARGET].to_numpy(np.float64)))
    return out
