"""Fit a mixture -> loss regression to proxy runs you already have, and propose a mixture from it: the library
behind ``tandem-bench fit``. Nothing here needs a Problem: mixtures are rows of an (n, M) array, losses an (n,)
array, and domains only names.

    from tandem_ref import fit as F
    from tandem_ref.proxy_runs import read_runs

    runs = read_runs("mixtures.csv", "metrics.csv", target="loss")         # checked tables (or your own arrays)
    model = F.fit(runs.X, runs.y, "regmix", domains=runs.domains, seed=0)  # 5-fold CV diagnostics inside
    model.cv                                  # {"folds": 5, "spearman": ..., "mae": ..., "runs": n}
    F.predict(model, Z)                       # predicted loss of the mixtures Z, (k, M) -> (k,)
    alpha = F.propose(model, prior, seed=0)   # the mixture the method's paper would choose

Methods, each as its paper fits and chooses (one ``FitMethod`` class each, registered in ``FIT_METHODS``, which
also holds their default parameters):
  regmix       LightGBM with RegMix's notebook settings (gbdt, l2, learning rate 1e-2, at most
               `num_iterations` = 1000 rounds); the number of rounds is the one with the least k-fold
               cross-validated l2 (``rounds`` = an integer fixes it), then one booster on every run.
               Propose: `simulations` draws x ~ Dir(prior) (concentration 1 x prior, as the notebook draws),
               the mean of the `top_k` with the lowest prediction (methods/regmix.py).
  linear       least squares of y on x (RegMix's linear baseline; the intercept is absorbed as x sums to 1).
               Propose: as regmix.
  mixing-laws  L(r) = c + sum_k s_k exp(b_k + t_k.r), K = `implicit_domains` (None: M), Huber fit from
               `starts` initialisations (methods/mixing_laws.py). Propose: the law's argmin on the simplex
               (lattice, then SLSQP); it uses no prior.

Cross-validation: the rows are permuted by a generator seeded with `seed` and cut into `folds` folds; each fold is
predicted by the method fitted on the others (for regmix, the boosters that chose the number of rounds, at that
round: choosing one integer on the same folds makes its estimate slightly optimistic). ``fit(..., folds=0)``
skips it (regmix then needs ``rounds``).
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass, field

import numpy as np

from .errors import BadInput, require_int
from .names import Registry
from .probes import domain_streams, minimize_on_simplex

_CV_STREAM, _FIT_STREAM, _PROPOSE_STREAM = 0xC7F01D, 0xF17, 0x9809


@dataclass
class Fitted:
    """A fitted regression: ``predict(Z)`` gives the predicted loss of mixtures Z (k, M)."""

    method: str
    domains: list[str]
    params: dict
    seed: int
    runs: int
    info: dict = field(default_factory=dict)  # what the fit chose: rounds, law parameters, coefficients, seconds
    cv: dict | None = None  # out-of-fold diagnostics: folds, spearman, mae, runs (None with folds=0)
    cv_predictions: np.ndarray | None = None  # (n,) out-of-fold predictions, in row order
    _f: object = field(default=None, repr=False)

    def predict(self, Z) -> np.ndarray:
        return predict(self, Z)


# --- checks ------------------------------------------------------------------------------------------

def check_params(method: str, params: dict) -> dict:
    """The method's parameters with its defaults filled in; an unknown method or parameter, or a value of the
    wrong kind, is a BadInput naming it."""
    if method not in FIT_METHODS:
        raise BadInput(f"method: expected one of {', '.join(FIT_METHODS)}, got {method!r}")
    defaults = FIT_METHODS[method].defaults
    for k in params:
        if k not in defaults:
            known = ", ".join(sorted(defaults)) or "none"
            raise BadInput(f"method {method!r}: unknown parameter {k!r} (known: {known})")
    p = {**defaults, **params}
    label = lambda k: f"method {method!r}: parameter {k!r}"  # noqa: E731
    for k in ("num_iterations", "starts"):
        if k in p:
            require_int(label(k), p[k])
    for k in ("rounds", "implicit_domains"):
        if p.get(k) is not None:
            require_int(label(k), p[k])
    if p.get("rounds") is not None and p["rounds"] > p["num_iterations"]:
        raise BadInput(f"{label('rounds')} ({p['rounds']}) exceeds 'num_iterations' ({p['num_iterations']})")
    for k in ("learning_rate", "huber_delta"):
        if k in p:
            v = p[k]
            if not (isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) and v > 0):
                raise BadInput(f"{label(k)} must be a positive number, got {v!r}")
    return p


def _check_xy(X, y, domains):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] < 2:
        raise BadInput(f"X: expected an (n, M) array of mixtures with M >= 2 domains, got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise BadInput(f"y: expected {X.shape[0]} losses (one per row of X), got shape {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise BadInput("X, y: every mixture weight and loss must be a finite number")
    if X.min() < 0:
        raise BadInput("X: mixture weights must be non-negative")
    n, m = X.shape
    if n < m:
        raise BadInput(f"X: {n} runs for {m} domains; a fit needs at least as many runs as domains")
    domains = [f"d{j}" for j in range(m)] if domains is None else [str(d) for d in domains]
    if len(domains) != m or len(set(domains)) != m:
        raise BadInput(f"domains: expected {m} distinct names (one per column of X), got {len(domains)}")
    return X, y, domains


def kfold(n: int, folds: int, seed: int) -> list[np.ndarray]:
    """The held-out rows of each fold: a seeded permutation of range(n) cut into `folds` near-equal parts."""
    perm = np.random.default_rng([int(seed), _CV_STREAM]).permutation(n)
    return [np.sort(part) for part in np.array_split(perm, folds)]


def scores(y, pred) -> dict:
    """Spearman rank correlation and mean absolute error of predictions against measured losses."""
    from scipy.stats import spearmanr

    y, pred = np.asarray(y, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    rho = float(spearmanr(pred, y)[0]) if len(y) >= 2 else math.nan
    return {"spearman": rho if math.isfinite(rho) else None, "mae": float(np.mean(np.abs(pred - y))),
            "runs": int(len(y))}


# --- the three regressions -------------------------------------------------------------------------------

class FitMethod:
    """A regression of loss on mixture and the way its paper chooses a mixture from it. ``predictor`` gives
    (f, info, oof): the fitted predictor, what it chose, and out-of-fold predictions where the fit made them;
    ``propose`` the chosen mixture. ``uses_prior``: whether ``propose`` simulates around a prior."""

    name: str
    defaults: dict = {}
    uses_prior = True

    def check(self, p: dict, folds: int) -> None:
        """Combinations of parameters and folds the method cannot fit with."""

    def predictor(self, X, y, p, seed, domains, folds=None):
        raise NotImplementedError

    def propose(self, fitted: "Fitted", prior, seed: int, simulations: int, top_k: int) -> np.ndarray:
        """RegMix's rule (its linear baseline's too): the mean of the top_k of `simulations` draws from
        Dir(prior); the draws of domain j come from a stream keyed by its name, so permuting the domains
        permutes the proposal."""
        from .methods.regmix import top_k_mixture

        prior = _check_prior(prior, len(fitted.domains))
        seed = require_int("seed", seed, 0)
        simulations = require_int("simulations", simulations)
        top_k = require_int("top_k", top_k)
        if top_k > simulations:
            raise BadInput(f"top_k ({top_k}) exceeds simulations ({simulations})")
        rngs = domain_streams(seed, _PROPOSE_STREAM, fitted.domains)
        return top_k_mixture(lambda R: predict(fitted, R), prior, rngs, simulations, top_k)


class RegMixFit(FitMethod):
    name = "regmix"
    defaults = {"num_iterations": 1000, "learning_rate": 1e-2, "rounds": None}

    def check(self, p, folds):
        if p["rounds"] is None and folds == 0:
            raise BadInput("method 'regmix': with folds = 0 nothing chooses the number of boosting rounds; "
                           "give rounds=N")

    def predictor(self, X, y, p, seed, domains, folds=None):
        import lightgbm as lgb

        from .methods.regmix import cv_rounds, lgb_params

        params = lgb_params(seed, p["learning_rate"])
        oof, info = None, {}
        rounds = p["rounds"]
        if rounds is None:
            rounds, oof, curve = cv_rounds(X, y, folds, p["num_iterations"], params)
            info = {"cv_l2": float(curve[rounds - 1]), "cv_l2_at_max": float(curve[-1])}
        booster = lgb.train(params, lgb.Dataset(X, y), num_boost_round=rounds)
        return (lambda Z: booster.predict(Z)), {"rounds": int(rounds), **info}, oof


class LinearFit(FitMethod):
    name = "linear"

    def predictor(self, X, y, p, seed, domains, folds=None):
        w = np.linalg.lstsq(X, y, rcond=None)[0]
        return (lambda Z: Z @ w), {"coefficients": dict(zip(domains, w.tolist()))}, None


class MixingLawFit(FitMethod):
    name = "mixing-laws"
    defaults = {"implicit_domains": None, "starts": 16, "huber_delta": 0.01}
    uses_prior = False

    def predictor(self, X, y, p, seed, domains, folds=None):
        from .methods.mixing_laws import fit_law, law, law_inits

        K = p["implicit_domains"] or X.shape[1]
        inits = law_inits(y, K, p["starts"], np.random.default_rng([int(seed), _FIT_STREAM]),
                          domain_streams(seed, _FIT_STREAM, domains))
        theta, loss = fit_law(X, y, inits, K, p["huber_delta"])
        if theta is None:
            raise BadInput("method 'mixing-laws': no start of the law's fit reached a finite loss")
        return (lambda Z: law(theta, Z, K)[0]), {"K": int(K), "huber_loss": float(loss), "theta": theta.tolist()}, None

    def propose(self, fitted, prior, seed, simulations, top_k):
        """The argmin of the fitted law on the simplex (lattice, then SLSQP); no prior."""
        if prior is not None:
            raise BadInput(NO_PRIOR)
        return minimize_on_simplex(lambda R: predict(fitted, R), len(fitted.domains))


NO_PRIOR = ("prior: mixing-laws minimises its fitted law over the whole simplex and uses no prior "
            "(regmix and linear simulate around one)")
# every fit method, the one list (``tandem-bench fit --method`` offers these, in this order)
FIT_METHODS = Registry("fit method", {m.name: m for m in (RegMixFit(), LinearFit(), MixingLawFit())})
METHODS = tuple(FIT_METHODS)


def fit(X, y, method: str = "regmix", *, domains=None, seed: int = 0, folds: int = 5, **params) -> Fitted:
    """Fit `method` to mixtures X (n, M) and losses y (n,); with folds >= 2, k-fold cross-validated diagnostics
    (``Fitted.cv``). Raises BadInput on malformed input."""
    p = check_params(method, params)
    X, y, domains = _check_xy(X, y, domains)
    n = len(y)
    seed = require_int("seed", seed, 0)
    folds = require_int("folds", folds, 0)
    if folds == 1 or folds > n:
        raise BadInput(f"folds: expected 0 (no cross-validation) or 2..{n} (the number of runs), got {folds}")
    FIT_METHODS[method].check(p, folds)
    parts = kfold(n, folds, seed) if folds else None
    t0 = time.perf_counter()
    f, info, oof = FIT_METHODS[method].predictor(X, y, p, seed, domains, parts)
    info["seconds"] = time.perf_counter() - t0
    out = Fitted(method, domains, p, seed, n, info, _f=f)
    if parts is not None:
        if oof is None:
            t1 = time.perf_counter()
            oof = np.empty(n)
            for held in parts:
                train = np.setdiff1d(np.arange(n), held)
                g = FIT_METHODS[method].predictor(X[train], y[train], p, seed, domains)[0]
                oof[held] = g(X[held])
            info["cv_seconds"] = time.perf_counter() - t1
        out.cv = {"folds": folds, **scores(y, oof)}
        out.cv_predictions = oof
    return out


def predict(fitted: Fitted, Z) -> np.ndarray:
    """Predicted loss of the mixtures Z: (k, M) -> (k,), or one mixture (M,) -> (1,)."""
    Z = np.atleast_2d(np.asarray(Z, dtype=np.float64))
    if Z.ndim != 2 or Z.shape[1] != len(fitted.domains):
        raise BadInput(f"Z: expected mixtures over the {len(fitted.domains)} fitted domains, got shape {Z.shape}")
    if not np.all(np.isfinite(Z)):
        raise BadInput("Z: every mixture weight must be a finite number")
    return np.asarray(fitted._f(Z), dtype=np.float64)


def _check_prior(prior, m: int) -> np.ndarray:
    if prior is None:
        return np.full(m, 1.0 / m)
    a = np.asarray(prior, dtype=np.float64)
    if a.shape != (m,) or not np.all(np.isfinite(a)) or a.min() < 0 or a.sum() <= 0:
        raise BadInput(f"prior: expected {m} non-negative finite weights with a positive sum")
    return a / a.sum()


def propose(fitted: Fitted, prior=None, *, seed: int = 0, simulations: int = 100_000, top_k: int = 128) -> np.ndarray:
    """The mixture the method's paper chooses from its fit (``FitMethod.propose``). regmix, linear: the mean of the
    top_k of `simulations` draws from Dir(prior) (prior None: uniform); mixing-laws: the argmin of the law on the
    simplex (no prior)."""
    return FIT_METHODS[fitted.method].propose(fitted, prior, seed, simulations, top_k)
