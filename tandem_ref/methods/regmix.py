"""RegMix (Liu et al., "RegMix: Data Mixture as Regression for Language Model Pre-training", ICLR 2025).

Algorithm (paper Section 2 and Fig. 1), as sail-sg/regmix's code computes it:
  1. candidates x^(1..n): Dirichlet mixtures around the token prior (natural mixture; uniform without sizes)
     [probes.regmix_mixtures = mixture_config/synthesize_mixture.py: temperature 0.5, strengths 0.1..5,
      at most 15 epochs of a domain, weights below 2e-4 zeroed, rounding to 2e-4, deduplication]
  2. one small proxy run per candidate: y^(k) = L_val after probe_steps steps          [probes.probe_run]
  3. regression f: x -> y, LightGBM gbdt, l2 objective, learning rate 1e-2, 1000 rounds, early stopping
     (patience 3) on held-out runs: regression_fitting/regression.ipynb holds out 128 of its 1000 runs;
     here the first n // 8 (none below 16 runs)
  4. simulate S mixtures x_s ~ Dir(prior) (the raw prior, concentration 1), predict f(x_s)
  5. alpha_hat = mean of the top_k simulated mixtures with the lowest prediction (the notebook: k = 128)
Paper values: 512 proxies of 1M parameters (17 domains), 1M simulations; `probes` defaults to 64 here to
keep the CPU profile cheap, `simulations` to 100000. `regressor="linear"` is the paper's linear-regression
baseline (least squares of y on x; the intercept is absorbed since x sums to 1), the family that cannot
express curvature: its top-k concentrate near a vertex.

Regressor library: LightGBM (the paper's choice, MIT licence, maintained by Microsoft, wheels for Linux,
macOS and Windows), called through its own ``lgb.train`` API, so scikit-learn is not needed. It runs with
one thread and ``deterministic=True`` so that a run is a deterministic function of its seed.
"""

import numpy as np

from ..errors import BadInput
from ..probes import ProbeMethod, dirichlet_rows, domain_streams, regmix_mixtures, token_prior

_REGRESSORS = ("lightgbm", "linear")


class RegMix(ProbeMethod):
    name = "regmix"
    summary = "Dirichlet proxies around the token prior, LightGBM mixture -> loss regression, top-k of simulations"
    defaults = {"probes": 64, "probe_steps": None, "lr": None, "regressor": "lightgbm", "simulations": 100_000,
                "top_k": 128, "temperature": 0.5, "num_iterations": 1000, "learning_rate": 1e-2,
                "early_stopping": 3}

    def check(self):
        super().check()
        p = self.params
        self._choice("regressor", _REGRESSORS)
        self._integer("simulations", "top_k", "num_iterations", "early_stopping")
        if p["top_k"] > p["simulations"]:
            raise BadInput(f"method 'regmix': parameter 'top_k' ({p['top_k']}) exceeds 'simulations'")
        self._positive("temperature", "learning_rate")

    def candidates(self, problem, seed, stream, n):
        return regmix_mixtures(problem, seed, stream, n, token_prior(problem), temperature=self.params["temperature"])

    def fit(self, X, y, rng):
        """The regression f: mixture -> validation loss (a function of an (n, M) array)."""
        if self.params["regressor"] == "linear":
            w = np.linalg.lstsq(X, y, rcond=None)[0]
            return lambda Z: Z @ w
        import lightgbm as lgb

        p = self.params
        hold = len(y) // 8 if len(y) >= 16 else 0
        params = {"objective": "regression", "boosting_type": "gbdt", "metric": "l2",
                  "learning_rate": p["learning_rate"], "seed": int(rng.integers(2**31 - 1)),
                  "deterministic": True, "num_threads": 1, "verbosity": -1}
        train = lgb.Dataset(X[hold:], y[hold:])
        if hold:
            valid = lgb.Dataset(X[:hold], y[:hold], reference=train)
            booster = lgb.train(params, train, num_boost_round=p["num_iterations"], valid_sets=[valid],
                                callbacks=[lgb.early_stopping(p["early_stopping"], verbose=False)])
        else:
            booster = lgb.train(params, train, num_boost_round=p["num_iterations"])
        return lambda Z: booster.predict(Z, num_iteration=booster.best_iteration or None)

    def choose(self, problem, X, Y, seed, stream):
        p = self.params
        f = self.fit(X, Y[:, 0], np.random.default_rng([seed, stream]))                # 3. regression
        prior = token_prior(problem)                                                   # 4. simulation
        samples = dirichlet_rows(domain_streams(seed, stream, problem.domains), np.tile(prior, (p["simulations"], 1)))
        top = np.argsort(f(samples), kind="stable")[: p["top_k"]]                     # 5. top-k average
        a = samples[top].mean(axis=0)
        return a / a.sum()
