"""Random search: candidate mixtures drawn from a Dirichlet around the token prior, one full proxy run
each, the one with the lowest validation loss returned.

    alpha^(1..n) ~ Dir(c prior)                     (c = M: the flat Dirichlet when the prior is uniform)
    L^(k)        = L_val(theta_T(alpha^(k)))        one probe run of T = budget steps from the same init
    alpha_hat    = alpha^(argmin_k L^(k))

The floor of every table at equal cost: the grid-search sweeps Aioli (Chen et al., ICLR 2025, Section 5)
compare against are the same baseline on a Dirichlet cover of the simplex (HazyResearch/aioli,
dirichlet_cover.py). Its total cost, n full runs, is in Trace.cost.
"""

import numpy as np

from ..probes import ProbeMethod, dirichlet_mixtures, token_prior


class RandomSearch(ProbeMethod):
    name = "random-search"
    summary = "Dirichlet samples around the prior, one full run each, the best by validation loss"
    defaults = {"probes": 16, "probe_steps": None, "lr": None, "concentration": None}

    def check(self):
        super().check()
        self._positive("concentration")

    def candidates(self, problem, seed, stream, n):
        return dirichlet_mixtures(problem, seed, stream, n, token_prior(problem), self.params["concentration"])

    def choose(self, problem, X, Y, seed, stream):
        return X[int(np.argmin(Y[:, 0]))].copy()
