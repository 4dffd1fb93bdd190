"""What every method shares: named parameters with defaults, and a resumable run.

A method file reads like its paper's algorithm box: it picks a schedule, a signal and an update
(``OnlineMethod``), probes and a fit (``tandem_ref.probes.ProbeMethod``), or returns a mixture
directly (``FixedMixtureMethod``); it has no loop of its own.

Every method runs the same way (``tandem_ref.resume.drive``): ``start`` makes its state, ``advance``
runs it on (``stop_after`` updates or probe runs at a time) until ``state.done``, ``save``/``load``
write and read the state atomically (npz plus JSON, no pickle; a resumed run is bitwise the
uninterrupted one), and ``trace`` turns the finished state into the Trace; ``run`` is all of it.
"""

from __future__ import annotations

import json
import numbers
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import loop
from ..errors import BadInput, require_int
from ..loop import LoopSpec, LoopState
from ..resume import drive
from ..trace import Trace


class Method:
    name: ClassVar[str]
    summary: ClassVar[str]
    version: ClassVar[str] = "1"  # bump when the method's results change; it enters cell keys
    defaults: ClassVar[dict] = {}
    nullable: ClassVar[tuple] = ()  # parameters with a non-None default that None switches off

    def __init__(self, **params):
        for k in params:
            if k not in self.defaults:
                known = ", ".join(sorted(self.defaults)) or "none"
                raise BadInput(f"method {self.name!r}: unknown parameter {k!r} (known: {known})")
        for k, v in params.items():
            self._typed(k, v, self.defaults[k])
        self.params = {**self.defaults, **params}
        self.check()

    def _typed(self, name, value, default) -> None:
        """A parameter given has its default's type (a suite's ``probe = "4"`` is refused here,
        naming it, instead of failing inside the run). None passes only for the parameters a method
        lists in ``nullable`` (it switches a part off, e.g. DoGE's ``max_grad_norm``); defaults of
        None accept any value, which ``check`` validates."""
        if value is None and name in self.nullable:
            return
        if default is None:
            return
        if isinstance(default, bool):
            ok, kind = isinstance(value, (bool, np.bool_)), "true or false"
        elif isinstance(default, numbers.Integral):
            ok, kind = isinstance(value, numbers.Integral) and not isinstance(value, bool), "an integer"
        elif isinstance(default, numbers.Real):
            ok, kind = isinstance(value, numbers.Real) and not isinstance(value, bool), "a number"
        elif isinstance(default, str):
            ok, kind = isinstance(value, str), "a string"
        else:
            return
        if not ok:
            raise BadInput(f"method {self.name!r}: parameter {name!r} must be {kind}, got {value!r}")

    def check(self) -> None:
        """Validate parameters (raise BadInput naming the parameter)."""

    def _positive(self, *names):
        for n in names:
            v = self.params[n]
            if v is not None and not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
                raise BadInput(f"method {self.name!r}: parameter {n!r} must be a positive number, got {v!r}")

    def _integer(self, *names, minimum: int = 1, optional: bool = False):
        for n in names:
            v = self.params[n]
            if v is None and optional:
                continue
            require_int(f"method {self.name!r}: parameter {n!r}", v, minimum)

    def _choice(self, name, options):
        v = self.params[name]
        if v not in options:
            raise BadInput(f"method {self.name!r}: parameter {name!r} must be one of "
                           f"{', '.join(map(str, options))}, got {v!r}")

    def _fraction(self, name, optional: bool = False):
        """A number in [0, 1) (a smoothing or EMA factor)."""
        v = self.params[name]
        if v is None and optional:
            return
        if not (isinstance(v, (int, float)) and not isinstance(v, bool) and 0.0 <= v < 1.0):
            raise BadInput(f"method {self.name!r}: parameter {name!r} must be a number in [0, 1), got {v!r}")

    # --- the resumable run ------------------------------------------------------------------------
    def start(self, problem, budget: int, seed: int = 0):
        raise NotImplementedError

    def advance(self, problem, state, stop_after: int | None = None):
        raise NotImplementedError

    def trace(self, problem, state) -> Trace:
        raise NotImplementedError

    def save(self, problem, state, path) -> None:
        raise NotImplementedError

    def load(self, problem, path):
        raise NotImplementedError

    def run(self, problem, budget: int, seed: int = 0) -> Trace:
        """The whole run, through the one driver every method run goes through (tandem_ref.resume)."""
        return self.trace(problem, drive(self, problem, budget, seed))

    def __repr__(self):
        return f"{self.name}({', '.join(f'{k}={v!r}' for k, v in self.params.items())})"


@dataclass
class FixedState:
    """The state of a method that trains nothing: done once advanced."""

    budget: int
    seed: int
    done: bool = False

    @property
    def progress(self) -> str:
        return "done" if self.done else "to do"


class FixedMixtureMethod(Method):
    """A method that returns a mixture without training anything (uniform, natural, fixed, oracle)."""

    def mixture(self, problem) -> np.ndarray:
        raise NotImplementedError

    def start(self, problem, budget: int, seed: int = 0) -> FixedState:
        return FixedState(int(budget), int(seed))

    def advance(self, problem, state: FixedState, stop_after: int | None = None) -> FixedState:
        state.done = True
        return state

    def save(self, problem, state: FixedState, path) -> None:
        meta = {"budget": state.budget, "seed": state.seed, "done": state.done, "format": 1}
        loop.write_npz_atomic(path, {"meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)})

    def load(self, problem, path) -> FixedState:
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(z["meta"].tobytes().decode())
            return FixedState(int(meta["budget"]), int(meta["seed"]), bool(meta["done"]))
        except Exception as e:  # not an npz of ours
            raise BadInput(f"checkpoint {path}: unreadable ({type(e).__name__}: {e}); "
                           "delete it to start over") from None

    def trace(self, problem, state: FixedState) -> Trace:
        return Trace.build(self.name, self.params, problem.domains, state.seed, state.budget,
                           output=self.mixture(problem))


class OnlineMethod(Method):
    """A method that is the shared loop with its own schedule, signal and update."""

    def spec(self, problem) -> LoopSpec:
        raise NotImplementedError

    def start(self, problem, budget: int, seed: int = 0, alpha0=None) -> LoopState:
        return loop.start(problem, self.spec(problem), budget, seed, alpha0)  # the state keeps its spec

    def _spec_of(self, problem, state: LoopState) -> LoopSpec:
        """The run's spec, built once: at ``start``, or for a state loaded from a file at its first use."""
        if state.spec is None:
            state.spec = self.spec(problem)
        return state.spec

    def advance(self, problem, state: LoopState, stop_after: int | None = None) -> LoopState:
        return loop.advance(problem, self._spec_of(problem, state), state, stop_after)

    def trace(self, problem, state: LoopState) -> Trace:
        return loop.trace_of(state, self._spec_of(problem, state), self.name, dict(self.params), problem.domains)

    def save(self, problem, state: LoopState, path) -> None:
        loop.save_state(problem, state, path)

    def load(self, problem, path) -> LoopState:
        return loop.load_state(problem, path)

    def run(self, problem, budget: int, seed: int = 0, alpha0=None) -> Trace:
        if alpha0 is None:
            return super().run(problem, budget, seed)
        return self.trace(problem, self.advance(problem, self.start(problem, budget, seed, alpha0)))
