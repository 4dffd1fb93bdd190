"""Steps of the mixture on the simplex, given a per-domain score to ascend."""

from __future__ import annotations

from .errors import BadInput
from .names import Registry
from .simplex import mirror_step, projected_step, smooth, uniform


class Update:
    """A step of the mixture: ``update(alpha, score, ctx) -> alpha``. ``ctx`` is the loop context, for
    rules with state of their own (ODM's bandit keeps it in ctx.memory); the plain steps ignore it."""

    key: str

    def __init__(self, eta: float, smoothing: float = 0.0):
        if not eta > 0:
            raise BadInput(f"eta: expected a positive step size, got {eta!r}")
        if not (0.0 <= smoothing <= 1.0):
            raise BadInput(f"smoothing: expected a number in [0, 1], got {smoothing!r}")
        self.eta, self.smoothing = float(eta), float(smoothing)

    def __repr__(self):
        return f"{type(self).__name__}(eta={self.eta}, smoothing={self.smoothing})"


class Mirror(Update):
    """Exponentiated gradient: alpha <- (1-eps) softmax(log alpha + eta s) + eps/M."""

    key = "mirror"

    def __call__(self, alpha, score, ctx=None):
        return smooth(mirror_step(alpha, score, self.eta), self.smoothing)


class Projected(Update):
    """Euclidean projected step: alpha <- (1-eps) Pi(alpha + eta s) + eps/M."""

    key = "projected"

    def __call__(self, alpha, score, ctx=None):
        return smooth(projected_step(alpha, score, self.eta), self.smoothing)


class Gibbs(Update):
    """Gibbs weights from a fixed uniform base: alpha <- (1-eps) softmax(eta s) + eps/M.

    Not cumulative: the previous alpha is ignored (Skill-It's p_t ~ exp(eta sum_tau A L_tau) and Aioli's
    EMA branch recompute the weights from uniform each round; research/peer_rules.md section 4)."""

    key = "gibbs"

    def __call__(self, alpha, score, ctx=None):
        base = uniform(len(alpha))
        return smooth(mirror_step(base, score, self.eta), self.smoothing)


UPDATES = Registry("update", {"mirror": Mirror, "projected": Projected, "gibbs": Gibbs})


def make_update(kind: str, eta: float, smoothing: float = 0.0) -> Update:
    if kind not in UPDATES:
        raise BadInput(f"update: expected one of {', '.join(UPDATES)}, got {kind!r}")
    return UPDATES[kind](eta, smoothing)
