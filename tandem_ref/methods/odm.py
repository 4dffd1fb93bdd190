"""Online Data Mixing (Albalak et al., "Efficient Online Data Mixing For Language Model Pre-Training", 2023),
as alon-albalak/online-data-mixing computes it (megatron/data/data_sampling_utils.py; research/peer_rules.md
section 3). A multi-armed bandit over domains: the proxy is the model being trained, the reward of a domain
is the proxy's own training loss on it, and the mixture is the bandit's sampling distribution pi.

Each update t (every `update_frequency` proxy steps; the code's iteration counter is steps done, warm-up
included, so it = (t + 1) E here):
  K = number of domains, eps_it = min(1/K, sqrt(ln K / (K it))), eps before the first update = 1/K
  L_i   = the proxy's training loss on domain i                                       [TrainLoss signal]
  observed: every domain (draws=None) or the domains of `draws` micro-batches drawn from pi (group_update)
  rule="smoothed-mean" (SmoothedMeanWeightUpdater.group_update, the README's ODM, the default):
      R_i <- a R_i + (1 - a) exp(L_i)              (observed i; R starts at 0; a = smoothing = 0.9)
      pi_i = (1 - K eps_it) R_i / sum_j R_j + eps_it   (linear normalisation; eps_{it-1} cancels)
  rule="exp3" (Exp3WeightUpdater):
      R_i <- R_i + (L_i / 10) / pi_i              (cumulative, never discounted)
      pi_i = (1 - K eps_it) softmax(eps_{it-1} R)_i + eps_it
  rule="paper" (the paper's Algorithm 1, recalled):
      R_i <- a R_i + (1 - a) L_i / pi_i
      pi_i = (1 - K eps_it) softmax(eps_{it-1} R)_i + eps_it
  no update while it <= warmup (training on the initial mixture: the scripts' natural Pile weights, here
  the token prior: the natural mixture where the problem has sizes, else uniform).
The importance weight 1/pi_i is the code's: exact for one draw, it over-credits rare domains when several
micro-batches or every domain are observed (peer_rules.md section 3).

Cost: the reward is read off the training step's own forward pass in ODM, so the per-domain losses are not
charged (the LM evaluates them on separate batches: an uncharged diagnostic forward). Order: the loop takes
the signal at the start of an episode and trains on the new pi, so with E = 1 the reward of step t is the
loss at theta_{t-1}, as in the code, and the new pi is used from step t on rather than t + 1. Output: the
last pi (ODM trains the final model online; "average" is available).
"""

import math

import numpy as np

from ..loop import LoopSpec
from ..probes import token_prior
from ..schedules import NoReference
from ..signals import Signal
from .base import OnlineMethod

_RULES = ("smoothed-mean", "exp3", "paper")


class TrainLoss(Signal):
    """The proxy's per-domain training losses (ODM's reward), uncharged: ODM reads them off its step."""

    uses_reference = False

    def __call__(self, ctx):
        with ctx.problem.cost.pause():
            return np.asarray(ctx.problem.train_losses(ctx.proxy, rng=ctx.rng), dtype=np.float64), {}


class BanditStep:
    """ODM's weight updater; its state (R, eps) lives in ctx.memory so that a run resumes bitwise."""

    def __init__(self, rule, smoothing, warmup, episode, draws):
        self.rule, self.smoothing, self.warmup, self.episode, self.draws = rule, smoothing, warmup, episode, draws

    def __call__(self, pi, losses, ctx):
        K = len(pi)
        mem = ctx.memory
        if "R" not in mem:  # R = 0 before any reward (log R = -inf for the smoothed mean)
            mem["R"] = np.full(K, -np.inf) if self.rule == "smoothed-mean" else np.zeros(K)
            mem["eps"] = np.asarray(1.0 / K)
        it = (ctx.t + 1) * self.episode
        if it <= self.warmup:
            return pi
        if self.draws is None:
            seen = np.ones(K, dtype=bool)
        else:  # the domains of `draws` micro-batches sampled from pi
            seen = np.zeros(K, dtype=bool)
            seen[ctx.rng.choice(K, size=self.draws, p=pi)] = True
        R, a = mem["R"].copy(), self.smoothing
        eps_prev = float(mem["eps"])
        eps = min(1.0 / K, math.sqrt(math.log(K) / (K * it)))
        if self.rule == "smoothed-mean":  # R is kept as log R: exp(L) overflows past L = 709 nats
            with np.errstate(divide="ignore"):
                R[seen] = np.logaddexp(np.log(a) + R[seen], np.log(1 - a) + losses[seen])
            w = np.exp(R - R.max())
            new = (1 - K * eps) * w / w.sum() + eps
        else:
            if self.rule == "exp3":
                R[seen] = R[seen] + (losses[seen] / 10.0) / pi[seen]
            else:
                R[seen] = a * R[seen] + (1 - a) * losses[seen] / pi[seen]
            z = eps_prev * R
            g = np.exp(z - z.max())
            new = (1 - K * eps) * g / g.sum() + eps
        mem["R"], mem["eps"] = R, np.asarray(eps)
        return new / new.sum()


class ODM(OnlineMethod):
    name = "odm"
    summary = "Exp3-style bandit over domains, reward = the proxy's own training loss, smoothing and warm-up"
    defaults = {"rule": "smoothed-mean", "smoothing": 0.9, "warmup": 0, "update_frequency": 1, "draws": None,
                "initial": "prior", "lr": None, "output": "last"}

    def check(self):
        self._choice("rule", _RULES)
        self._fraction("smoothing")
        self._integer("warmup", minimum=0)
        self._integer("update_frequency")
        self._integer("draws", optional=True)
        self._choice("initial", ("prior", "uniform"))
        self._positive("lr")

    def spec(self, problem):
        p = self.params
        E = p["update_frequency"]
        return LoopSpec(schedule=NoReference(E), signal=TrainLoss(),
                        update=BanditStep(p["rule"], p["smoothing"], p["warmup"], E, p["draws"]),
                        proxy_lr=p["lr"], output=p["output"])

    def start(self, problem, budget, seed=0, alpha0=None):
        if alpha0 is None and self.params["initial"] == "prior":
            alpha0 = token_prior(problem)
        return super().start(problem, budget, seed, alpha0)
