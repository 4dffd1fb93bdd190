"""RegMix (Liu et al., "RegMix: Data Mixture as Regression for Language Model Pre-training", ICLR 2025).

Algorithm (paper Section 2 and Fig. 1), as sail-sg/regmix's code computes it:
  1. candidates x^(1..n): Dirichlet mixtures around the token prior (natural mixture; uniform without sizes)
     [probes.regmix_mixtures = mixture_config/synthesize_mixture.py: temperature 0.5, strengths 0.1..5,
      at most 15 epochs of a domain, weights below 2e-4 zeroed, rounding to 2e-4, deduplication]
  2. one small proxy run per candidate: y^(k) = L_val after probe_steps steps          [probes.probe_run]
  3. regression f: x -> y, LightGBM gbdt, l2 objective, learning rate 1e-2, at most 1000 rounds     [lgb_params]
  4. simulate S mixtures x_s ~ Dir(prior) (the raw prior, concentration 1), predict f(x_s)
  5. alpha_hat = mean of the top_k simulated mixtures with the lowest prediction (k = 128)      [top_k_mixture]
Paper values: 512 proxies of 1M parameters (17 domains), 1M simulations; `probes` defaults to 64 here to
keep the CPU profile cheap, `simulations` to 100000. `regressor="linear"` is the paper's linear-regression
baseline (least squares of y on x; the intercept is absorbed since x sums to 1), the family that cannot
express curvature: its top-k concentrate near a vertex.

How many boosting rounds (step 3):
  - RegMix's notebook now (regression_fitting/regression.ipynb at sail-sg/regmix 476a7b0, the version that reads
    data/train_mixture_1m.csv): ``lgb.LGBMRegressor`` with gbdt, objective regression, metric l1 and l2,
    num_iterations 1000, learning rate 1e-2, seed 42 (LightGBM's defaults otherwise: 31 leaves, 20 rows a
    leaf), fitted on all 512 training runs with ``eval_set`` = the 256 *test* mixtures and early stopping
    after 3 rounds without gain there: the test set chooses the number of rounds, and the Spearman rho it
    prints (98.92 for the Pile-CC loss) is measured on that same test set. Its simulation: 100000 draws
    Dir(prior), prior = the Pile's token distribution, mean of the top 128.
  - Its first release (commit 7ef3663, 1000 runs): the first 128 runs held out for the early stopping.
  - This method (`RegMix.fit`, probe runs made here): the first n // 8 runs held out for early stopping
    (patience `early_stopping`, none below 16 runs); they are never trained on, and file order decides which.
  - ``tandem_ref.fit`` (``tandem-bench fit``, proxy runs you bring): the number of rounds that minimises the
    pooled k-fold cross-validated l2 (seeded folds, up to `num_iterations`), then one booster trained on every
    run with that many rounds [cv_rounds]; no test data are looked at.

Regressor library: LightGBM (the paper's choice, MIT licence, maintained by Microsoft, wheels for Linux,
macOS and Windows), called through its own ``lgb.train`` API, so scikit-learn is not needed. It runs with
one thread and ``deterministic=True`` so that a run is a deterministic function of its seed.
"""

from __future__ import annotations

import numpy as np

from ..errors import BadInput
from ..probes import ProbeMethod, dirichlet_rows, domain_streams, regmix_mixtures, token_prior

_REGRESSORS = ("lightgbm", "linear")


def lgb_params(seed: int, learning_rate: float = 1e-2) -> dict:
    """The notebook's LightGBM settings (gbdt, l2 regression, learning rate 1e-2, LightGBM's defaults otherwise),
    on one thread and deterministic."""
    return {"objective": "regression", "boosting_type": "gbdt", "metric": "l2", "learning_rate": learning_rate,
            "seed": int(seed), "deterministic": True, "num_threads": 1, "verbosity": -1}


def cv_rounds(X, y, folds, max_rounds: int, params: dict):
    """The number of boosting rounds by k-fold cross-validation: one booster per fold, trained `max_rounds` rounds
    on the other folds; the l2 of its held-out fold after every round, pooled over the folds (weighted by fold
    size); the first round with the least pooled l2. Returns (rounds, the out-of-fold predictions at that
    round (n,), the pooled curve (max_rounds,))."""
    import lightgbm as lgb

    n = len(y)
    curve = np.zeros(max_rounds)
    boosters = []
    for held in folds:
        train = np.setdiff1d(np.arange(n), held)
        evals: dict = {}
        dtrain = lgb.Dataset(X[train], y[train])
        b = lgb.train(params, dtrain, num_boost_round=max_rounds,
                      valid_sets=[lgb.Dataset(X[held], y[held], reference=dtrain)], valid_names=["held"],
                      callbacks=[lgb.record_evaluation(evals)])
        l2 = np.asarray(evals["held"]["l2"], dtype=np.float64)
        curve[: len(l2)] += l2 * len(held) / n
        if len(l2) < max_rounds:  # LightGBM stopped early (nothing left to split): the curve stays flat
            curve[len(l2):] += l2[-1] * len(held) / n
        boosters.append(b)
    rounds = int(np.argmin(curve)) + 1
    oof = np.empty(n)
    for held, b in zip(folds, boosters):
        oof[held] = b.predict(X[held], num_iteration=rounds)
    return rounds, oof, curve


def top_k_mixture(f, prior, rngs, simulations: int, top_k: int) -> np.ndarray:
    """Steps 4-5: `simulations` draws x ~ Dir(prior) (domain j from rngs[j]), the mean of the top_k with the lowest
    f(x), renormalised."""
    samples = dirichlet_rows(rngs, np.tile(np.asarray(prior, dtype=np.float64), (simulations, 1)))
    top = np.argsort(f(samples), kind="stable")[:top_k]
    a = samples[top].mean(axis=0)
    return a / a.sum()


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
        """The regression f: mixture -> validation loss (a function of an (n, M) array); LightGBM early-stops on
        the first n // 8 runs (none below 16) and never trains on them."""
        if self.params["regressor"] == "linear":
            w = np.linalg.lstsq(X, y, rcond=None)[0]
            return lambda Z: Z @ w
        import lightgbm as lgb

        p = self.params
        hold = len(y) // 8 if len(y) >= 16 else 0
        params = lgb_params(int(rng.integers(2**31 - 1)), p["learning_rate"])
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
        rngs = domain_streams(seed, stream, problem.domains)                           # 4-5. simulation, top-k
        return top_k_mixture(f, token_prior(problem), rngs, p["simulations"], p["top_k"])
