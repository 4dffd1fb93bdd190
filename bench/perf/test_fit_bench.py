"""Speed of Data Mixing Laws' fit (tandem_ref/methods/mixing_laws.py, used by `tandem-bench fit` and the
mixing-laws method): 16 L-BFGS-B starts with the analytic gradient, on 20 runs x 17 domains (the size a mixing
law is usually fitted on) and on 512 x 17 (RegMix's table: 16 x ~1000 iterations on 512 x 17 x 17 arrays).
Recorded: the 512 x 17 fit against the 20 x 17 fit measured in the same run (how the fit grows with the table),
with both absolute times; no target (the fit is compute-bound and its iteration cap decides the cost)."""

import numpy as np

from tandem_ref.methods.mixing_laws import fit_law, law_inits
from tandem_ref.probes import domain_streams

from .timing import min_times


def _table(n, m=17, seed=0):
    """Mixtures around a skewed prior and a smooth loss with an interior optimum, like a proxy-run table."""
    rng = np.random.default_rng(seed)
    X = rng.dirichlet(np.full(m, 0.4), size=n)
    a = rng.dirichlet(np.ones(m))
    y = 5.0 + 2.0 * ((X - a) ** 2).sum(axis=1) - 0.3 * np.log(X @ a + 0.05) + rng.normal(0.0, 0.01, size=n)
    return X, y


def _fit(n, m=17):
    X, y = _table(n, m)
    inits = law_inits(y, m, 16, np.random.default_rng([0, 1]), domain_streams(0, 1, [f"d{j}" for j in range(m)]))
    return lambda: fit_law(X, y, inits, m)


def test_mixing_law_fit_growth(benchmark, record_ratio):
    t = min_times({"small": _fit(20), "regmix": _fit(512)}, rounds=3)  # interleaved, min of 3: one round moved 40%
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    record_ratio("mixing_law_fit_512x17_vs_20x17", t["regmix"] / t["small"], target=None, seconds=t["regmix"],
                 note=f"16 starts, K = 17; 20 x 17 in {t['small']:.2f} s, 512 x 17 in {t['regmix']:.2f} s")
