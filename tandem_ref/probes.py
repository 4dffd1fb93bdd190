"""Probe runs, then a fit, then a choice: what the offline mixers share (RegMix, Data Mixing Laws,
random search), and the probe runs Skill-It estimates its skills graph from.

A probe run is a short proxy training from the problem's own initialisation: ``problem.init_state(seed)``
advanced ``steps`` gradient steps on a candidate mixture with ``problem.step``, then evaluated
(``problem.val_loss``, or the per-domain losses). Every probe step and evaluation is charged to
``problem.cost``, the counter the shared loop charges, so an offline method's Trace.cost (all its probe
runs) is in the same units as an online method's and compute-matched comparisons are possible.

The probes of one run share their initialisation and their batch-stream seed (common random numbers), so
their differences come from the mixtures, not from sampling noise.

An offline run is resumable like a loop run: ``ProbeMethod.start`` draws every candidate mixture,
``advance`` runs the next probes, ``save_probes``/``load_probes`` write and read the state atomically (npz
plus JSON, no pickle), and a resumed run is bitwise identical to an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field

import numpy as np

from .errors import BadInput
from .loop import write_npz_atomic
from .methods.base import Method
from .schedules import natural_mixture
from .simplex import RunningAverage, uniform
from .trace import Trace

TARGETS = ("val", "domains")
_PROBE_STREAM, _CANDIDATE_STREAM, _CHOICE_STREAM = 0x9B0BE, 0xCA4D, 0xC401CE


def token_prior(problem) -> np.ndarray:
    """The natural (size-proportional) mixture where the problem has sizes, else uniform (RegMix's prior)."""
    if getattr(problem, "sizes", None) is None:
        return uniform(len(problem.domains))
    return natural_mixture(problem)


def eval_losses(problem, state, target: str = "val", rng=None) -> np.ndarray:
    """What a probe is scored on: [L_val] ("val"), or the per-domain losses L_i ("domains")."""
    if target == "val":
        return np.array([problem.val_loss(state, rng=rng)], dtype=np.float64)
    return np.asarray(problem.train_losses(state, rng=rng), dtype=np.float64)


def probe_run(problem, alpha, steps: int, seed: int, *, lr=None, target: str = "val") -> np.ndarray:
    """Train a fresh proxy (init of ``seed``) ``steps`` steps on ``alpha``; return its eval losses."""
    rng = np.random.default_rng([seed, _PROBE_STREAM])  # the same stream for every probe of a run
    state = problem.step(problem.init_state(seed), np.asarray(alpha, dtype=np.float64), steps, lr=lr, rng=rng)
    return eval_losses(problem, state, target, rng)


def initial_losses(problem, seed: int, target: str = "val") -> np.ndarray:
    return eval_losses(problem, problem.init_state(seed), target, np.random.default_rng([seed, _PROBE_STREAM]))


# --- candidate mixtures ------------------------------------------------------------------------
# Per-domain draws come from streams keyed by the domain's name, so permuting the domains permutes the
# candidates (and everything downstream) exactly: a method's output is equivariant, not just in law.

def domain_streams(seed: int, stream: int, domains) -> list[np.random.Generator]:
    return [np.random.default_rng([int(seed), int(stream), int(hashlib.sha256(str(d).encode()).hexdigest()[:15], 16)])
            for d in domains]


def dirichlet_rows(rngs: list[np.random.Generator], conc) -> np.ndarray:
    """Rows x ~ Dir(conc_row), as normalised independent gammas, domain j from rngs[j]; conc is (n, M)."""
    conc = np.maximum(np.asarray(conc, dtype=np.float64), 1e-12)
    g = np.stack([r.standard_gamma(conc[:, j]) for j, r in enumerate(rngs)], axis=1)
    g = g[g.sum(axis=1) > 0]
    return g / g.sum(axis=1, keepdims=True)


def dirichlet_mixtures(problem, seed: int, stream: int, n: int, prior, concentration: float | None = None):
    """n draws from Dir(c prior); c = M by default (the flat Dirichlet when the prior is uniform)."""
    prior = np.asarray(prior, dtype=np.float64)
    c = prior.size if concentration is None else float(concentration)
    rngs = domain_streams(seed, stream, problem.domains)
    x = dirichlet_rows(rngs, np.tile(c * prior, (n, 1)))
    while len(x) < n:  # an all-zero row (vanishing concentrations) was dropped: draw more
        x = np.concatenate([x, dirichlet_rows(rngs, np.tile(c * prior, (n, 1)))])
    return x[:n]


def regmix_mixtures(problem, seed: int, stream: int, n: int, prior, *, temperature: float = 0.5,
                    min_strength: float = 0.1, max_strength: float = 5.0, max_usage: float = 15.0,
                    minimum: float = 2e-4, multiplier: int = 100) -> np.ndarray:
    """RegMix's proxy mixtures (sail-sg/regmix, mixture_config/synthesize_mixture.py,
    generate_weights_dirichlet, with its constants as defaults):

      bound_i   = min(max_usage prior_i, 1)                 (at most 15 epochs of a domain; raw prior)
      prior    <- prior^temperature / Z                     (TEMP = 0.5 flattens a skewed prior)
      draw multiplier * n times: a strength s among 15 log-spaced values in [min, max], x ~ Dir(s prior);
          reject x if some x_i > bound_i; zero the x_i < minimum; round to multiples of minimum
      deduplicate, then keep n of them.
    The script draws one sample per strength and keeps a random one: the same law as drawing the strength
    first. It keeps a random subset of the distinct draws; here the first n distinct ones in draw order (the
    same law). After rounding the weights are renormalised so that each probe trains on a true mixture."""
    prior = np.asarray(prior, dtype=np.float64)
    bound = np.minimum(prior * max_usage, 1.0)
    if temperature < 1.0:
        prior = prior**temperature
        prior = prior / prior.sum()
    strengths = np.logspace(np.log10(min_strength), np.log10(max_strength), 15)
    s = strengths[np.random.default_rng([seed, stream]).integers(0, 15, size=n * multiplier)]
    conc = np.maximum(s[:, None] * prior[None, :], 1e-12)
    rngs = domain_streams(seed, stream, problem.domains)
    g = np.stack([r.standard_gamma(conc[:, j]) for j, r in enumerate(rngs)], axis=1)
    g = g[g.sum(axis=1) > 0]
    x = g / g.sum(axis=1, keepdims=True)
    x = x[np.all(x <= bound[None, :], axis=1)]
    x = np.where(x < minimum, 0.0, x)
    x = x[x.sum(axis=1) > 0]
    units = np.round(x / x.sum(axis=1, keepdims=True) / minimum)  # weights in multiples of `minimum`
    units = units[units.sum(axis=1) > 0]
    first = np.sort(np.unique(units, axis=0, return_index=True)[1])  # deduplicate, keep draw order
    if len(first) < n:
        raise BadInput(f"method 'regmix': only {len(first)} distinct candidate mixtures for {n} probes "
                       "(lower 'probes')")
    units = units[first[:n]]
    return units / units.sum(axis=1, keepdims=True)


def simplex_lattice(m: int, max_points: int = 20000) -> np.ndarray:
    """All mixtures with weights in multiples of 1/n, for the largest n giving at most max_points."""
    n = 1
    while math.comb(n + 1 + m - 1, m - 1) <= max_points:
        n += 1
    pts = []
    for bars in itertools.combinations(range(n + m - 1), m - 1):
        edges = (-1,) + bars + (n + m - 1,)
        pts.append([edges[i + 1] - edges[i] - 1 for i in range(m)])
    return np.asarray(pts, dtype=np.float64) / n


def minimize_on_simplex(f, m: int, *, starts: int = 3, max_points: int = 20000) -> np.ndarray:
    """argmin of a cheap vectorised predictor f((n, M) -> (n,)) over the simplex: a lattice search
    (Data Mixing Laws find the optimum by grid search, yegcjs/mixinglaws pipeline/find_opt.py), polished
    by SLSQP from the best lattice points."""
    from scipy.optimize import minimize

    grid = simplex_lattice(m, max_points)
    vals = f(grid)
    best, best_val = grid[int(np.argmin(vals))], float(np.min(vals))
    for i in np.argsort(vals)[:starts]:
        r = minimize(lambda a: float(f(a[None, :])[0]), grid[i], method="SLSQP", bounds=[(0.0, 1.0)] * m,
                     constraints=[{"type": "eq", "fun": lambda a: a.sum() - 1.0}], options={"ftol": 1e-14})
        a = np.clip(r.x, 0.0, None)
        a = a / a.sum()
        v = float(f(a[None, :])[0])
        if v < best_val:
            best, best_val = a, v
    return best


# --- the resumable offline run ---------------------------------------------------------------------

@dataclass
class ProbeState:
    mixtures: np.ndarray  # (n, M): every candidate, drawn at start
    losses: np.ndarray  # (n, T): each probe's eval losses, NaN until it has run
    grad_steps: np.ndarray  # (n,): cumulative cost in gradient steps after each probe
    budget: int
    seed: int
    probe_steps: int
    n_done: int = 0
    cost: dict = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.n_done >= len(self.mixtures)

    @property
    def progress(self) -> str:
        return f"{self.n_done}/{len(self.mixtures)} probe runs"


def save_probes(st: ProbeState, path) -> None:
    meta = {"budget": st.budget, "seed": st.seed, "probe_steps": st.probe_steps, "n_done": st.n_done,
            "cost": st.cost, "format": 1}
    write_npz_atomic(path, {"mixtures": st.mixtures, "losses": st.losses, "grad_steps": st.grad_steps,
                            "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)})


def load_probes(path) -> ProbeState:
    """The state ``save_probes`` wrote; anything else is refused with one line naming the file."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(arrays.pop("meta").tobytes().decode())
        return ProbeState(arrays["mixtures"], arrays["losses"], arrays["grad_steps"], meta["budget"], meta["seed"],
                          meta["probe_steps"], meta["n_done"], meta["cost"])
    except Exception as e:  # not an npz of ours: zip, pickle, JSON, key or shape errors
        raise BadInput(f"checkpoint {path}: unreadable ({type(e).__name__}: {e}); delete it to start over") from None


class ProbeMethod(Method):
    """An offline method: candidate mixtures, one probe run each, then ``choose`` (the fit and the choice).

    Subclasses set ``candidates(problem, seed, stream, n)`` and ``choose(problem, X, Y, seed, stream)``;
    parameters
    ``probes`` (number of probe runs), ``probe_steps`` (steps per probe; None = the run's budget) and
    ``lr`` (None = the problem's step) are shared. The budget is the length of one probe run, the total
    cost is about probes x probe_steps gradient steps, and Trace.cost reports it exactly."""

    target: str = "val"

    def check(self):
        self._integer("probes")
        self._integer("probe_steps", optional=True)
        self._positive("lr")

    def candidates(self, problem, seed: int, stream: int, n: int) -> np.ndarray:
        """The n mixtures to probe (draw from ``domain_streams(seed, stream, ...)`` to stay equivariant)."""
        raise NotImplementedError

    def choose(self, problem, X: np.ndarray, Y: np.ndarray, seed: int, stream: int) -> np.ndarray:
        """The fit and the choice, from the probed mixtures X (n, M) and their losses Y (n, T)."""
        raise NotImplementedError

    def start(self, problem, budget: int, seed: int = 0) -> ProbeState:
        if not isinstance(budget, (int, np.integer)) or isinstance(budget, bool) or budget < 1:
            raise BadInput(f"budget: expected a positive number of proxy steps, got {budget!r}")
        problem.cost.load({k: 0 for k in problem.cost.as_dict()})
        m = len(problem.domains)
        n = self.params["probes"]
        X = np.asarray(self.candidates(problem, seed, _CANDIDATE_STREAM, n), dtype=np.float64)
        assert X.shape == (n, m), X.shape
        t = 1 if self.target == "val" else m
        steps = self.params["probe_steps"] or int(budget)
        return ProbeState(X, np.full((n, t), np.nan), np.zeros(n, dtype=np.int64), int(budget), int(seed), int(steps),
                          cost=problem.cost.as_dict())

    def advance(self, problem, st: ProbeState, stop_after: int | None = None) -> ProbeState:
        problem.cost.load(st.cost)
        done_now = 0
        while not st.done and (stop_after is None or done_now < stop_after):
            i = st.n_done
            st.losses[i] = probe_run(problem, st.mixtures[i], st.probe_steps, st.seed, lr=self.params["lr"],
                                     target=self.target)
            st.grad_steps[i] = problem.cost.grad_steps
            st.n_done += 1
            done_now += 1
        st.cost = problem.cost.as_dict()
        return st

    def trace(self, problem, st: ProbeState) -> Trace:
        if not st.done:
            raise BadInput(f"method {self.name!r}: {len(st.mixtures) - st.n_done} probe runs still to do")
        a = np.asarray(self.choose(problem, st.mixtures, st.losses, st.seed, _CHOICE_STREAM), dtype=np.float64)
        n, m = st.mixtures.shape
        avg, means = RunningAverage(m), []
        for x in st.mixtures:
            avg.add(x)
            means.append(avg.value(x))
        return Trace.build(self.name, self.params, problem.domains, st.seed, st.budget,
                           steps=st.probe_steps * np.arange(1, n + 1, dtype=np.int64), alpha=st.mixtures.copy(),
                           alpha_avg=np.asarray(means).reshape(n, m), grad_steps=st.grad_steps.copy(), output=a,
                           cost=st.cost)

    def save(self, problem, state: ProbeState, path) -> None:
        save_probes(state, path)

    def load(self, problem, path) -> ProbeState:
        st = load_probes(path)
        if st.mixtures.shape[1:] != (len(problem.domains),):
            raise BadInput(f"checkpoint {path}: probes over {st.mixtures.shape[-1]} domains, the problem has "
                           f"{len(problem.domains)}; delete it to start over")
        return st
