"""The one training loop every online mixer shares.

Per alpha update t (research/tandem_paper.md Algorithm 1, in the template of theory.md 3.1):
  1. the schedule refreshes the reference (and may probe the proxy K steps with it);
  2. the signal compares proxy and reference per domain;
  3. the update moves alpha on the simplex (last and running-average mixture both kept);
  4. the proxy trains on the new alpha for the rest of the episode.
DoReMi (static reference, E = 1), DoGE (look-ahead, E = 1) and TANDEM (twin reset every E steps,
K-step probe) are this loop with different parts. The loop state can be saved and resumed, and a
resumed run is bitwise identical to an uninterrupted one.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .atomic import write_atomic
from .context import LoopContext
from .errors import BadInput
from .schedules import ReferenceSchedule
from .signals import Signal
from .simplex import RunningAverage, uniform, validate_mixture
from .trace import Trace
from .updates import Update


@dataclass
class LoopSpec:
    schedule: ReferenceSchedule
    signal: Signal
    update: Update
    proxy_lr: float | None = None  # eta_u; None = the problem's default step
    ref_lr: float | None = None  # step of the reference on G + ref_val_weight L_val; None = proxy_lr
    ref_val_weight: float = 1.0  # 1/gamma; 0 gives identical twins (no extra data)
    probe_in_episode: bool = True  # the K probe steps count towards the episode's E proxy steps
    signal_ema: float | None = None  # smooth the signal: s <- b s_prev + (1-b) s
    average_includes_initial: bool = False  # DoReMi's average includes alpha_0, DoGE's does not
    output: str = "last"  # "last" or "average"

    def __post_init__(self):
        if self.output not in ("last", "average"):
            raise BadInput(f"output: expected 'last' or 'average', got {self.output!r}")
        if self.signal_ema is not None and not (0.0 <= self.signal_ema < 1.0):
            raise BadInput(f"signal_ema: expected a number in [0, 1), got {self.signal_ema!r}")
        probe = getattr(self.schedule, "probe", 0)
        if self.probe_in_episode and probe > self.schedule.episode and not hasattr(self.schedule, "period"):
            raise BadInput(f"probe: K = {probe} exceeds the episode E = {self.schedule.episode} "
                           "(set probe_in_episode = false to run the probe on top of E)")


@dataclass
class LoopState:
    """A run of the loop between updates: its context (``LoopContext``: the twins, the mixture, the
    loop's random generator, the update index and the parts' memory, which the schedule, the signal and
    the update read and write) and what only the loop keeps (the running average, the budget, the
    signal EMA, the log). One record: ``proxy``, ``reference``, ``alpha``, ``rng``, ``t`` and ``memory``
    are the context's, not copies of it."""

    ctx: LoopContext
    avg: RunningAverage
    budget: int
    seed: int
    steps: int = 0
    sig_ema: np.ndarray | None = None
    cost: dict = field(default_factory=dict)
    log: dict = field(default_factory=lambda: {k: [] for k in LOG_KEYS})
    diagnostics: dict = field(default_factory=dict)  # what the signal reported at each update, under its names
    spec: Any = field(default=None, repr=False, compare=False)  # the run's LoopSpec, built once (not saved)

    proxy = property(lambda self: self.ctx.proxy, lambda self, v: setattr(self.ctx, "proxy", v))
    reference = property(lambda self: self.ctx.reference, lambda self, v: setattr(self.ctx, "reference", v))
    alpha = property(lambda self: self.ctx.alpha, lambda self, v: setattr(self.ctx, "alpha", v))
    rng = property(lambda self: self.ctx.rng, lambda self, v: setattr(self.ctx, "rng", v))
    t = property(lambda self: self.ctx.t, lambda self, v: setattr(self.ctx, "t", v))
    memory = property(lambda self: self.ctx.memory, lambda self, v: setattr(self.ctx, "memory", v))

    @property
    def done(self) -> bool:
        return self.steps >= self.budget

    @property
    def progress(self) -> str:
        return f"{self.steps}/{self.budget} proxy steps"


LOG_KEYS = ("steps", "alpha", "alpha_avg", "scores", "twin_distance", "penalty_gap", "grad_steps")


def start(problem, spec: LoopSpec, budget: int, seed: int, alpha0=None) -> LoopState:
    if not isinstance(budget, (int, np.integer)) or budget < 1:
        raise BadInput(f"budget: expected a positive number of proxy steps, got {budget!r}")
    m = len(problem.domains)
    alpha = uniform(m) if alpha0 is None else validate_mixture(alpha0, problem.domains, name="alpha0")
    problem.cost.load({k: 0 for k in problem.cost.as_dict()})
    ctx = _context(problem, spec, alpha, np.random.default_rng(seed), seed)
    ctx.proxy = problem.init_state(seed)
    spec.schedule.start(ctx, budget)
    avg = RunningAverage(m)
    if spec.average_includes_initial:
        avg.add(alpha)
    return LoopState(ctx, avg, int(budget), int(seed), cost=problem.cost.as_dict(), spec=spec)


def _context(problem, spec, alpha, rng, seed):
    return _configure(LoopContext(problem, alpha, rng, seed), spec)


def _configure(ctx: LoopContext, spec) -> LoopContext:
    """The spec's step sizes on the context (constants of the run, not state: never saved)."""
    ctx.proxy_lr = spec.proxy_lr
    ctx.ref_lr = spec.ref_lr if spec.ref_lr is not None else spec.proxy_lr
    ctx.ref_val_weight = spec.ref_val_weight
    return ctx


def advance(problem, spec: LoopSpec, st: LoopState, stop_after: int | None = None) -> LoopState:
    """Run alpha updates until the budget of proxy steps is used (or ``stop_after`` more updates)."""
    problem.cost.load(st.cost)
    ctx = _configure(st.ctx, spec)
    ctx.problem = problem
    done_now = 0
    while st.steps < st.budget and (stop_after is None or done_now < stop_after):
        used = spec.schedule.refresh(ctx)                                  # 1. reference
        dist = np.nan
        if ctx.reference is not None:
            with problem.cost.pause():
                dist = problem.distance(ctx.proxy, ctx.reference)
        if spec.signal.uses_reference and ctx.reference is None:
            raise BadInput(f"signal {type(spec.signal).__name__} needs a reference the schedule does not build")
        scores, info = spec.signal(ctx)                                    # 2. signal
        scores = np.asarray(scores, dtype=np.float64)
        if not np.all(np.isfinite(scores)):
            raise FloatingPointError(f"non-finite signal at update {st.t}: {scores}")
        if spec.signal_ema is not None:
            st.sig_ema = scores if st.sig_ema is None else spec.signal_ema * st.sig_ema + (1 - spec.signal_ema) * scores
            scores = st.sig_ema
        st.alpha = spec.update(st.alpha, scores, ctx)  # 3. mixture step (a stateful rule reads ctx.memory)
        st.avg.add(st.alpha)
        rest = spec.schedule.episode - used if spec.probe_in_episode else spec.schedule.episode
        rest = max(0, min(rest, st.budget - st.steps - used))
        st.steps += used + rest
        if rest > 0 and "proxy_step" in info:  # 4. proxy trains on new alpha; DoGE's first step reuses
            ctx.proxy = info["proxy_step"](st.alpha, spec.proxy_lr)  # the signal's per-domain gradients
            rest -= 1
        if rest > 0:
            ctx.proxy = problem.step(ctx.proxy, st.alpha, rest, lr=spec.proxy_lr, rng=st.rng)
        st.t += 1
        done_now += 1
        log = st.log
        log["steps"].append(st.steps)
        log["alpha"].append(st.alpha.copy())
        log["alpha_avg"].append(st.avg.value(st.alpha))
        log["scores"].append(scores.copy())
        log["twin_distance"].append(dist)
        log["penalty_gap"].append(info.get("penalty_gap", np.nan))
        log["grad_steps"].append(problem.cost.grad_steps)
        for k, v in info.items():  # every signal's own diagnostics (DoGE's alignments, Aioli's A, ...)
            if not callable(v):
                st.diagnostics.setdefault(k, []).append(np.array(v, dtype=np.float64))
    st.cost = problem.cost.as_dict()
    return st


def trace_of(st: LoopState, spec: LoopSpec, method: str, params: dict, domains) -> Trace:
    m = len(domains)
    L = st.log
    arr = lambda k, shape: np.asarray(L[k], dtype=np.float64).reshape(shape)  # noqa: E731
    T = len(L["steps"])
    avg = st.avg.value(st.alpha)
    return Trace.build(method, params, domains, st.seed, st.budget, steps=L["steps"], alpha=arr("alpha", (T, m)),
                       alpha_avg=arr("alpha_avg", (T, m)), scores=arr("scores", (T, m)),
                       twin_distance=arr("twin_distance", (T,)), penalty_gap=arr("penalty_gap", (T,)),
                       grad_steps=L["grad_steps"], output=(avg if spec.output == "average" else st.alpha).copy(),
                       alpha_last=st.alpha.copy(), alpha_average=avg, cost=st.cost,
                       diagnostics={k: np.stack(v) for k, v in st.diagnostics.items()})


# --- saving and resuming -------------------------------------------------------------------

def save_state(problem, st: LoopState, path) -> None:
    """Write the loop state atomically (npz of arrays plus JSON metadata; no pickle)."""
    arrays = {"alpha": st.alpha, "avg_mean": st.avg.mean}
    for k, v in problem.state_arrays(st.proxy).items():
        arrays[f"proxy/{k}"] = v
    if st.reference is not None:
        for k, v in problem.state_arrays(st.reference).items():
            arrays[f"reference/{k}"] = v
    if st.sig_ema is not None:
        arrays["sig_ema"] = st.sig_ema
    for k, v in st.memory.items():
        arrays[f"memory/{k}"] = np.asarray(v)
    for k, v in st.diagnostics.items():
        arrays[f"diagnostics/{k}"] = np.stack(v)
    m = len(st.alpha)
    for k in LOG_KEYS:
        shape = (-1, m) if k in ("alpha", "alpha_avg", "scores") else (-1,)
        arrays[f"log/{k}"] = np.asarray(st.log[k], dtype=np.float64).reshape(shape) if st.log[k] \
            else np.zeros((0, m) if len(shape) == 2 else (0,))
    meta = {"t": st.t, "steps": st.steps, "budget": st.budget, "seed": st.seed, "avg_count": st.avg.count,
            "rng": st.rng.bit_generator.state, "cost": st.cost, "format": 1}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    write_npz_atomic(path, arrays)


def write_npz_atomic(path, arrays: dict) -> None:
    """np.savez into memory, then an atomic write (``tandem_ref.atomic``; no pickle)."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_atomic(path, buf.getvalue())


def load_state(problem, path) -> LoopState:
    """The loop state saved by ``save_state``, checked: a garbage, truncated or tampered file (a
    mixture that is not on the simplex, another number of domains) is refused with one line naming
    the file, never resumed from."""
    try:
        state = _load_state(problem, path)
    except BadInput as e:
        raise BadInput(f"checkpoint {path}: {e}") from None
    except Exception as e:  # not an npz of ours: zip, pickle, JSON, key or shape errors
        raise BadInput(f"checkpoint {path}: unreadable ({type(e).__name__}: {e}); delete it to start over") from None
    m, a = len(problem.domains), state.alpha
    if a.shape != (m,):
        raise BadInput(f"checkpoint {path}: a mixture over {a.size} domains, the problem has {m}; "
                       "delete it to start over")
    if not (np.all(np.isfinite(a)) and np.all(a >= 0) and abs(a.sum() - 1) < 1e-6):
        raise BadInput(f"checkpoint {path}: its mixture is not on the simplex ({a.tolist()}); delete it to start over")
    return state


def _load_state(problem, path) -> LoopState:
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays.pop("meta").tobytes().decode())
    sub = lambda prefix: {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}  # noqa: E731
    proxy = problem.state_from_arrays(sub("proxy/"))
    ref_arrays = sub("reference/")
    reference = problem.state_from_arrays(ref_arrays) if ref_arrays else None
    rng = np.random.default_rng()
    rng.bit_generator.state = meta["rng"]
    m = arrays["alpha"].shape[0]
    log = {}
    for k in LOG_KEYS:
        a = arrays[f"log/{k}"]
        if k in ("alpha", "alpha_avg", "scores"):
            log[k] = [row.copy() for row in a]
        elif k in ("steps", "grad_steps"):
            log[k] = [int(x) for x in a]
        else:
            log[k] = [float(x) for x in a]
    ctx = LoopContext(problem, arrays["alpha"].copy(), rng, meta["seed"])  # the step sizes: the spec's, at advance
    ctx.proxy, ctx.reference, ctx.t, ctx.memory = proxy, reference, meta["t"], sub("memory/")
    return LoopState(ctx, RunningAverage(m, meta["avg_count"], arrays["avg_mean"]), meta["budget"], meta["seed"],
                     steps=meta["steps"], sig_ema=arrays.get("sig_ema"), cost=meta["cost"], log=log,
                     diagnostics={k: [row.copy() for row in v] for k, v in sub("diagnostics/").items()})
