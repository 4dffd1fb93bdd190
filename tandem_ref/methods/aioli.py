"""Aioli (Chen, Hu et al., "Aioli: A Unified Optimization Framework for Language Model Data Mixing",
ICLR 2025), as HazyResearch/aioli computes it (trainer/aioli_trainer.py, AioliTrainer.train and
learn_params_subroutine; research/peer_rules.md section 4; research/theory.md section 3.5).

Linear dynamic mixing law (paper Eq. 2):   L^{t+1}_i = L^t_i - sum_j A^t_ij p^t_j
Each round of `update_steps` proxy steps (Algorithm 1):
  LearnParams (Algorithm 2), real training steps of the proxy, counted in the round      [LearnParams]
      order = `lp_rounds` random permutations of the k domains, concatenated
      for j in order: train `lp_steps` steps on P_j = f e_j + (1 - f)/(k - 1) (1 - e_j)  (f = one_hot_factor)
                      G[:, j] += L_prev - L_new;  L_prev = L_new   (eval losses; L_prev starts before probing)
      G /= lp_rounds;  A = G if f = 1 (diagonal or not, as the code branches);  else A = diag(G_ii / f)
      if diagonal, A = G P^{-1} (row by row) otherwise
  if normalize: A <- A - min(A) if min(A) < 0;  A <- A / sum_ij A_ij                     [AioliScore]
  no EMA:  p <- p * exp(eta sum_i A_ij) / Z       (multiplicative, cumulative)            [Mirror]
  EMA:     Abar = (1 - ema) A + ema Abar_prev;  p = exp(eta sum_i Abar_ij) / Z  (uniform base)  [signal_ema + Gibbs]
  train the rest of the round on p.
The eval losses: target="val" is the one validation loss (A is 1 x k: how much each domain lowers L_val),
target="domains" the per-domain losses standing for the per-group validation losses of the code (A is
k x k). Defaults are the README's example run: eta 0.2, ema 0.1, lp_rounds 4, lp_steps 4, update_steps 250,
one_hot_factor 0.625, normalize on (the README: "always set"). The restricted setting (`--aioli_prior`) is
not reproduced.

Equivariance: the order of the LearnParams segments is drawn by sorting per-domain keys from streams keyed
by the domain names, so permuting the domains permutes the output exactly; the law of the order is the
code's (a uniform random permutation per round).
"""

import numpy as np

from ..errors import BadInput
from ..loop import LoopSpec
from ..probes import TARGETS, domain_streams, eval_losses
from ..schedules import ReferenceSchedule
from ..signals import Signal
from ..updates import Gibbs, Mirror
from .base import OnlineMethod


def smoothed_one_hots(k: int, f: float) -> np.ndarray:
    """Row j is P_j: f on domain j, (1 - f)/(k - 1) on each other domain."""
    P = np.full((k, k), (1.0 - f) / (k - 1) if k > 1 else 0.0)
    np.fill_diagonal(P, f)
    return P


class LearnParams(ReferenceSchedule):
    key = "learn-params"
    summary = "Aioli: estimate A^t from short one-hot-smoothed training segments of the proxy itself"

    def __init__(self, episode, rounds, steps, one_hot_factor, target, diagonal, k):
        self.episode, self.rounds, self.steps, self.f = episode, rounds, steps, one_hot_factor
        self.target, self.diagonal, self.k = target, diagonal, k
        self.probe = rounds * steps * k  # proxy steps LearnParams takes out of each round

    def refresh(self, ctx):
        p, k = ctx.problem, self.k
        P = smoothed_one_hots(k, self.f)
        base = int(ctx.rng.integers(2**63))
        keys = np.stack([r.random(self.rounds) for r in domain_streams(base, 0xA101, p.domains)], axis=1)
        order = np.concatenate([np.argsort(keys[r], kind="stable") for r in range(self.rounds)])
        prev = eval_losses(p, ctx.proxy, self.target, ctx.rng)
        G = np.zeros((len(prev), k))
        for j in order:
            ctx.proxy = p.step(ctx.proxy, P[j], self.steps, lr=ctx.proxy_lr, rng=ctx.rng)
            new = eval_losses(p, ctx.proxy, self.target, ctx.rng)
            G[:, j] += prev - new
            prev = new
        G /= self.rounds
        # the code's branches: the solve and the diagonal both sit under `if one_hot_factor != 1`,
        # so with f = 1 (pure one-hots, P = I) A is G itself, --aioli_diagonal or not
        if self.f == 1.0:
            A = G
        elif self.diagonal:
            A = np.diag(np.diag(G) / self.f)
        else:
            A = np.linalg.solve(P, G.T).T  # A[i] solves P A[i] = G[i] (P is symmetric)
        ctx.memory["A"] = A
        return self.probe


class AioliScore(Signal):
    """sum_i A_ij of the (normalised) A^t that LearnParams just estimated."""

    uses_reference = False

    def __init__(self, normalize: bool):
        self.normalize = normalize

    def __call__(self, ctx):
        A = np.array(ctx.memory["A"], dtype=np.float64)
        if self.normalize:
            if A.min() < 0:
                A = A - A.min()
            if A.sum() > 0:  # the code divides unconditionally (NaN weights when A = 0)
                A = A / A.sum()
        return A.sum(axis=0), {"A": A}


class Aioli(OnlineMethod):
    name = "aioli"
    summary = "linear dynamic mixing law, A^t from LearnParams probes, exponentiated step, optional EMA"
    nullable = ("ema",)  # None: no EMA of the signal (a Mirror step instead of Gibbs)
    defaults = {"eta": 0.2, "ema": 0.1, "lp_rounds": 4, "lp_steps": 4, "update_steps": 250,
                "one_hot_factor": 0.625, "normalize": True, "diagonal": False, "target": "val", "lr": None,
                "output": "last"}

    def check(self):
        p = self.params
        self._positive("eta", "lr")
        self._integer("lp_rounds", "lp_steps", "update_steps")
        self._fraction("ema", optional=True)
        self._choice("target", TARGETS)
        if not (isinstance(p["one_hot_factor"], (int, float)) and 0.0 < p["one_hot_factor"] <= 1.0):
            raise BadInput(f"method 'aioli': parameter 'one_hot_factor' must be in (0, 1], "
                           f"got {p['one_hot_factor']!r}")
        if p["diagonal"] and p["target"] != "domains":
            raise BadInput("method 'aioli': parameter 'diagonal' needs target='domains' (a square A)")

    def spec(self, problem):
        p = self.params
        k = len(problem.domains)
        if k > 1 and p["one_hot_factor"] == 1.0 / k and not p["diagonal"]:
            raise BadInput(f"method 'aioli': parameter 'one_hot_factor' = 1/{k} makes the probe mixtures "
                           "identical (P is singular)")
        lp = p["lp_rounds"] * p["lp_steps"] * k
        if lp > p["update_steps"]:
            raise BadInput(f"method 'aioli': parameter 'update_steps' ({p['update_steps']}) is shorter than "
                           f"LearnParams (lp_rounds x lp_steps x k = {lp} steps)")
        schedule = LearnParams(p["update_steps"], p["lp_rounds"], p["lp_steps"], float(p["one_hot_factor"]),
                               p["target"], p["diagonal"], k)
        update = Mirror(p["eta"]) if p["ema"] is None else Gibbs(p["eta"])
        return LoopSpec(schedule=schedule, signal=AioliScore(p["normalize"]), update=update, proxy_lr=p["lr"],
                        signal_ema=p["ema"], output=p["output"])
