"""The ``Problem`` protocol: what a mixture is learned on, and the cost it counts.

A problem names its domains, makes model states, advances a state by n gradient steps on
sum_i alpha_i L_i + val_weight * L_val, and reports per-domain training losses and the validation
loss of a state. Theory families implement it in float64 with exact gradients; the small LM
implements it with a torch model and real batches. Every method talks to a problem only through
this interface, so every method runs on every problem unchanged.

Randomness (mini-batches, gradient noise) comes only from the ``rng`` the loop passes in, so a
run is a deterministic function of its seed and can be stopped and resumed bitwise.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import asdict, dataclass, fields
from typing import Any, Callable, Protocol, runtime_checkable

import numpy as np


@dataclass
class Cost:
    """What a run spent, in the units every method is compared in.

    grad_steps: single-model gradient steps (a twin probe of K steps costs 2K);
    forward_evals: loss evaluations (forward-only passes over a batch or a population loss);
    examples / tokens: data consumed by gradient steps; flops: estimate where the problem knows it."""

    grad_steps: int = 0
    forward_evals: int = 0
    examples: int = 0
    tokens: int = 0
    flops: float = 0.0
    paused: bool = False

    def add(self, grad_steps=0, forward_evals=0, examples=0, tokens=0, flops=0.0) -> None:
        if self.paused:
            return
        self.grad_steps += int(grad_steps)
        self.forward_evals += int(forward_evals)
        self.examples += int(examples)
        self.tokens += int(tokens)
        self.flops += float(flops)

    @contextlib.contextmanager
    def pause(self):
        """Diagnostics computed for the trace (not by the method) are not charged."""
        old, self.paused = self.paused, True
        try:
            yield
        finally:
            self.paused = old

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("paused")
        return d

    def load(self, d: dict) -> None:
        for f in fields(self):
            if f.name in d:
                setattr(self, f.name, type(getattr(self, f.name))(d[f.name]))


@dataclass
class PairedLosses:
    """Proxy u's and reference w's losses on the same data, compared unit by unit (common random
    numbers: the batch noise cancels in the difference, as with real twin networks).

    A unit is a token of the batch for the LM and the domain's population loss for a vector problem.
    diff[i]   = mean over domain i's units of l_u(x) - l_w(x)            (= L_i(u) - L_i(w));
    excess[i] = mean over domain i's units of max(l_u(x) - l_w(x), 0)    (DoReMi clips per token).
    NaN for a domain the data do not hold (a batch with fewer rows than domains). The signals turn
    these into TANDEM's twin gap and DoReMi's excess loss (tandem_ref.signals)."""

    diff: np.ndarray
    excess: np.ndarray

    @classmethod
    def population(cls, diff) -> "PairedLosses":
        """One unit per domain: the clip acts per domain."""
        diff = np.asarray(diff, dtype=np.float64)
        return cls(diff=diff, excess=np.maximum(diff, 0.0))


@dataclass
class DomainGrads:
    """The geometry of the per-domain gradients g_i = grad L_i and the validation gradient g_val at a
    state, for gradient signals (DoGE): align[i] = <g_i, g_val>, norms[i] = ||g_i||, val_norm = ||g_val||.

    The gradients themselves stay in the problem's representation (float64 vectors, or torch tensors
    sharded over ranks for the LM), so the problem returns their inner products, which is all a signal
    reads. ``step(coef, lr)``, where the gradients were taken on the proxy's own next training batch (the
    LM, as DoGE's code does): the proxy state after its step on sum_i coef_i g_i from these same
    gradients; None where they are population gradients (the loop then takes an ordinary step)."""

    align: np.ndarray
    norms: np.ndarray
    val_norm: float
    step: Callable[..., Any] | None = None


@runtime_checkable
class Problem(Protocol):
    """States, training, measurements. Every measurement is generic: the signals (tandem_ref.signals)
    compute gaps, excess losses and alignments from paired losses and gradient geometry."""

    domains: tuple[str, ...]
    sizes: np.ndarray | None  # natural sizes (examples or tokens) per domain, if the problem has them
    lr: float  # the default step size of a plain training step
    cost: Cost

    # states
    def init_state(self, seed: int) -> Any: ...
    def copy(self, state) -> Any: ...
    def distance(self, a, b) -> float: ...
    def interpolate(self, a, b, t: float) -> Any: ...
    def state_arrays(self, state) -> dict[str, np.ndarray]: ...
    def state_from_arrays(self, arrays: dict[str, np.ndarray]) -> Any: ...

    # training: n steps on sum_i alpha_i L_i + val_weight L_val
    def step(self, state, alpha, n: int = 1, *, val_weight: float = 0.0, lr: float | None = None,
             rng: np.random.Generator | None = None) -> Any: ...

    # measurements
    def train_losses(self, state, rng: np.random.Generator | None = None) -> np.ndarray: ...
    def val_loss(self, state, rng: np.random.Generator | None = None) -> float: ...
    def paired_losses(self, u, w, *, on_batch: bool = False,
                      rng: np.random.Generator | None = None) -> PairedLosses:
        """Proxy u against reference w on the same data: on_batch False, every domain's evaluation
        rows of the training split (equal per domain); True, the proxy's next training batch (DoReMi's
        code). A population problem has one kind of data and ignores it."""
    def domain_grads(self, state, rng: np.random.Generator | None = None) -> DomainGrads: ...

    def fingerprint(self) -> str: ...


def current_lr(problem, state, base: float | None = None) -> float:
    """The step size the next training step of ``state`` takes with base rate ``base`` (None: the
    problem's ``lr``). A problem that schedules its rate (the LM's warm-up and decay) says so through
    ``lr_at(state, base)``; for the others the rate is constant. DoGE's code scales its weights by
    this scheduled rate (``lr_scheduler.get_last_lr()``, research/peer_rules.md section 2)."""
    if hasattr(problem, "lr_at"):
        return float(problem.lr_at(state, base))
    return float(problem.lr if base is None else base)


def fingerprint_of(obj) -> str:
    """A short stable hash of JSON-able data and numpy arrays (domain order matters)."""
    h = hashlib.sha256()

    def feed(x):
        if isinstance(x, np.ndarray):
            h.update(str(x.dtype).encode() + str(x.shape).encode())
            h.update(np.ascontiguousarray(x).tobytes())
        elif isinstance(x, (list, tuple)):
            h.update(b"[")
            for y in x:
                feed(y)
            h.update(b"]")
        elif isinstance(x, dict):
            h.update(b"{")
            for k in sorted(x):
                h.update(json.dumps(k).encode())
                feed(x[k])
            h.update(b"}")
        else:
            h.update(json.dumps(x, sort_keys=True, default=str).encode())

    feed(obj)
    return h.hexdigest()[:16]


class VectorProblem:
    """Shared machinery for problems whose state is one float64 parameter vector.

    Subclasses provide the population quantities at a parameter vector, a public protocol that the
    loop and theory's exact solvers (theory.exact) both use: ``losses_at(theta)`` (L_i, M),
    ``val_loss_at(theta)``, ``grads_at(theta)`` (M x d), ``val_grad_at(theta)``,
    ``grad_at(theta, alpha, val_weight)`` (of G_alpha + val_weight L_val); and, for the exact
    solvers, ``inner_solution(alpha, val_weight)``, ``inner_hessian(theta, alpha, val_weight)`` and
    ``regulariser(theta)`` (1/2 ridge ||theta||^2 unless overridden). They may add gradient noise
    through ``noise`` (std of an isotropic Gaussian added to each gradient step, the stochastic mode)."""

    domains: tuple[str, ...]
    sizes: np.ndarray | None = None
    lr: float
    noise: float = 0.0
    flops_per_grad: float = 0.0
    ridge: float = 0.0

    def __init__(self):
        self.cost = Cost()

    # --- what an exact solver needs besides the population quantities -----------------------
    def regulariser(self, theta) -> float:
        """r(theta) in G_alpha = sum_i alpha_i L_i + r."""
        return 0.5 * self.ridge * float(theta @ theta)

    def inner_hessian(self, theta, alpha, val_weight: float = 0.0) -> np.ndarray:
        """The Hessian of G_alpha + val_weight L_val at theta."""
        raise NotImplementedError(f"{type(self).__name__} has no inner Hessian")

    # --- states -------------------------------------------------------------------------
    def copy(self, state):
        return np.array(state, dtype=np.float64, copy=True)

    def distance(self, a, b) -> float:
        return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))

    def interpolate(self, a, b, t: float):
        return (1.0 - t) * np.asarray(a) + t * np.asarray(b)

    def state_arrays(self, state) -> dict[str, np.ndarray]:
        return {"theta": np.asarray(state, dtype=np.float64)}

    def state_from_arrays(self, arrays):
        return np.array(arrays["theta"], dtype=np.float64)

    # --- training -----------------------------------------------------------------------
    def step(self, state, alpha, n=1, *, val_weight=0.0, lr=None, rng=None):
        lr = self.lr if lr is None else lr
        alpha = np.asarray(alpha, dtype=np.float64)
        theta = np.array(state, dtype=np.float64, copy=True)
        for _ in range(int(n)):
            g = self.grad_at(theta, alpha, val_weight)
            if self.noise and rng is not None:
                g = g + self._gradient_noise(alpha, val_weight, rng, theta.shape)
            theta -= lr * g
        self.cost.add(grad_steps=n, examples=n, flops=n * self.flops_per_grad)
        return theta

    def _gradient_noise(self, alpha, val_weight, rng, shape) -> np.ndarray:
        """The stochastic mode's noise on one gradient step: isotropic Gaussian of std ``noise``.

        A hook: theory.stochastic replaces it by per-domain mini-batch noise (sum_i alpha_i xi_i)."""
        return self.noise * rng.standard_normal(shape)

    # --- evaluation ---------------------------------------------------------------------
    def train_losses(self, state, rng=None) -> np.ndarray:
        self.cost.add(forward_evals=1)
        return self.losses_at(np.asarray(state))

    def val_loss(self, state, rng=None) -> float:
        self.cost.add(forward_evals=1)
        return float(self.val_loss_at(np.asarray(state)))

    def loss_difference(self, u, w) -> np.ndarray:
        """L_i(u) - L_i(w) per domain at two parameter vectors (population, not charged). A family
        overrides it where it has a form free of cancellation (QuadraticProblem)."""
        return self.losses_at(np.asarray(u)) - self.losses_at(np.asarray(w))

    def paired_losses(self, u, w, *, on_batch=False, rng=None) -> PairedLosses:
        """One unit per domain (the population loss), so DoReMi's clip acts per domain; the LM
        clips per token, as DoReMi's code does."""
        self.cost.add(forward_evals=2)
        return PairedLosses.population(self.loss_difference(u, w))

    def domain_grads(self, state, rng=None) -> DomainGrads:
        theta = np.asarray(state)
        G = self.grads_at(theta)
        gv = self.val_grad_at(theta)
        # one backward per domain plus one for the target, as in DoGE
        self.cost.add(grad_steps=0, forward_evals=len(self.domains) + 1,
                      flops=(len(self.domains) + 1) * self.flops_per_grad)
        return DomainGrads(align=G @ gv, norms=np.linalg.norm(G, axis=1), val_norm=float(np.linalg.norm(gv)))
