"""Reference-model schedules: how and when the reference w is (re)built from the proxy u.

Every online mixer is "a proxy trained on the alpha-mixture, a reference built some way, a
per-domain signal comparing them, and a step of alpha on the simplex" (research/theory.md 3.1).
This module is the "reference built some way". A schedule may advance the proxy itself (a twin
probe of K steps); it returns how many proxy steps it used so the loop can keep to the budget.

The reference trains on G_alpha + val_weight * L_val with step ``ctx.ref_lr``: with the paper's
w <- w - eta_w (grad L_val + gamma grad L_train(alpha)) that is val_weight = 1/gamma and
ref_lr = eta_w * gamma (research/theory.md 0.1).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .context import LoopContext
from .errors import BadInput, require_int
from .names import Registry
from .simplex import uniform, validate_mixture


class ReferenceSchedule:
    key: ClassVar[str]
    summary: ClassVar[str]
    episode: int = 1  # proxy steps per alpha update
    tandem: ClassVar[bool] = False  # TANDEM's own schedule or one of its ablations (methods/tandem.py)

    def start(self, ctx: LoopContext, budget: int) -> None:
        """Build the initial reference (before the first update)."""

    def refresh(self, ctx: LoopContext) -> int:
        """Update ctx.reference for update ctx.t; return the proxy steps this used."""
        return 0

    def params(self) -> dict:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.params().items())})"


class TwinReset(ReferenceSchedule):
    key = "twin-reset"
    summary = "TANDEM: every E steps copy the proxy into the reference, then probe both K steps"
    tandem = True

    def __init__(self, episode: int = 5, probe: int = 4):
        self.episode = require_int("episode", episode)
        self.probe = require_int("probe", probe)

    def refresh(self, ctx):
        ctx.reference = ctx.problem.copy(ctx.proxy)  # synchronisation: w_0 <- u_0
        return ctx.probe_twins(self.probe)


class Static(ReferenceSchedule):
    key = "static"
    summary = "DoReMi: trained once beforehand on a fixed mixture, never updated"

    def __init__(self, mixture="uniform", steps: int | None = None):
        self.mixture = mixture
        self.steps = None if steps is None else require_int("reference_steps", steps, 0)

    def resolve(self, problem) -> np.ndarray:
        m = len(problem.domains)
        if isinstance(self.mixture, str):
            if self.mixture == "uniform":
                return uniform(m)
            if self.mixture == "natural":
                return natural_mixture(problem)
            raise BadInput(f"reference_mixture: expected 'uniform', 'natural' or weights, got {self.mixture!r}")
        return validate_mixture(self.mixture, problem.domains, name="reference_mixture")

    def start(self, ctx, budget):
        # A separate model from the same initialisation, trained on the reference mixture only
        # (no validation data), with its own batch stream.
        p = ctx.problem
        steps = budget if self.steps is None else self.steps
        w = p.init_state(ctx.seed)
        ctx.reference = p.step(w, self.resolve(p), steps, lr=ctx.proxy_lr,
                               rng=np.random.default_rng([ctx.seed, 0x5EF]))


class Lookahead(ReferenceSchedule):
    key = "lookahead"
    summary = "DoGE: the proxy after `steps` steps on the validation loss, rebuilt every update"

    def __init__(self, steps: int = 1):
        self.steps = require_int("steps", steps)

    def refresh(self, ctx):
        p = ctx.problem
        zero = np.zeros(len(p.domains))
        ctx.reference = p.step(p.copy(ctx.proxy), zero, self.steps, val_weight=1.0, lr=ctx.proxy_lr,
                               rng=ctx.sub_rng())
        return 0


class Persistent(ReferenceSchedule):
    key = "persistent"
    summary = "ablation (paper Fig. 7): warm-started once from the proxy, probed K steps per episode, never reset"
    tandem = True

    def __init__(self, episode: int = 5, probe: int = 4):
        self.episode = require_int("episode", episode)
        self.probe = require_int("probe", probe)

    def start(self, ctx, budget):
        ctx.reference = ctx.problem.copy(ctx.proxy)

    def refresh(self, ctx):
        return ctx.probe_twins(self.probe)


class EMA(ReferenceSchedule):
    key = "ema"
    summary = "negative control: an exponential moving average of the proxy (no extra data)"
    tandem = True

    def __init__(self, tau: float = 0.1, episode: int = 1):
        if not (0.0 < float(tau) <= 1.0):
            raise BadInput(f"tau: expected a number in (0, 1], got {tau!r}")
        self.tau = float(tau)
        self.episode = require_int("episode", episode)

    def start(self, ctx, budget):
        ctx.reference = ctx.problem.copy(ctx.proxy)

    def refresh(self, ctx):
        ctx.reference = ctx.problem.interpolate(ctx.reference, ctx.proxy, self.tau)
        return 0


class Stale(ReferenceSchedule):
    key = "stale"
    summary = "alpha every E steps, twin reference re-synced and probed only every `period` updates"
    tandem = True

    def __init__(self, period: int = 4, probe: int = 4, episode: int = 1):
        self.period = require_int("period", period)
        self.probe = require_int("probe", probe)
        self.episode = require_int("episode", episode)

    def refresh(self, ctx):
        if ctx.t % self.period:
            return 0
        ctx.reference = ctx.problem.copy(ctx.proxy)
        return ctx.probe_twins(self.probe)


class NoReference(ReferenceSchedule):
    key = "none"
    summary = "no reference model (ODM, Aioli, Skill-It): alpha updated every E proxy steps"

    def __init__(self, episode: int = 1):
        self.episode = require_int("episode", episode)


def natural_mixture(problem) -> np.ndarray:
    sizes = getattr(problem, "sizes", None)
    if sizes is None:
        raise BadInput(f"natural mixture: problem {type(problem).__name__} has no domain sizes")
    sizes = np.asarray(sizes, dtype=np.float64)
    if np.any(~np.isfinite(sizes)) or np.any(sizes < 0) or sizes.sum() <= 0:
        raise BadInput("natural mixture: domain sizes must be finite, non-negative and not all zero")
    return sizes / sizes.sum()


SCHEDULES = Registry("schedule", {cls.key: cls for cls in (TwinReset, Static, Lookahead, Persistent, EMA, Stale)})


def make_schedule(name: str, **params) -> ReferenceSchedule:
    cls = SCHEDULES.load(name)
    try:
        return cls(**params)
    except TypeError as e:
        raise BadInput(f"schedule {name!r}: {e}") from None
