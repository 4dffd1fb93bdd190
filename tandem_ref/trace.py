"""The record of one run: the mixture over time, the final and averaged mixture, signals, cost."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Trace:
    method: str
    params: dict
    domains: list[str]
    seed: int
    budget: int
    steps: np.ndarray  # proxy gradient steps done at each logged update, shape (T,)
    alpha: np.ndarray  # mixture after each logged update, (T, M)
    alpha_avg: np.ndarray  # running-average mixture, (T, M)
    scores: np.ndarray  # the signal each update ascended, (T, M)
    twin_distance: np.ndarray  # ||u - w|| before the update (NaN without a reference), (T,)
    penalty_gap: np.ndarray  # sum_i alpha_i (L_i(w) - L_i(u)) where the signal gives it, else NaN, (T,)
    grad_steps: np.ndarray  # cumulative cost in gradient steps at each logged update, (T,)
    output: np.ndarray  # the mixture the method returns
    alpha_last: np.ndarray
    alpha_average: np.ndarray
    cost: dict = field(default_factory=dict)

    @property
    def weights(self) -> dict[str, float]:
        return {d: float(a) for d, a in zip(self.domains, self.output)}

    def rows(self) -> list[dict]:
        """Tidy rows: one per logged update, every mixture weight a column."""
        out = []
        for t in range(len(self.steps)):
            r = {"update": t, "step": int(self.steps[t]), "grad_steps": int(self.grad_steps[t]),
                 "twin_distance": float(self.twin_distance[t]), "penalty_gap": float(self.penalty_gap[t])}
            for j, d in enumerate(self.domains):
                r[f"alpha.{d}"] = float(self.alpha[t, j])
                r[f"alpha_avg.{d}"] = float(self.alpha_avg[t, j])
                r[f"score.{d}"] = float(self.scores[t, j])
            out.append(r)
        return out

    def equal(self, other: "Trace") -> bool:
        """Bitwise equality of every recorded array (NaN equals NaN)."""
        names = ["steps", "alpha", "alpha_avg", "scores", "twin_distance", "penalty_gap",
                 "grad_steps", "output", "alpha_last", "alpha_average"]
        return all(np.array_equal(getattr(self, n), getattr(other, n), equal_nan=True) for n in names) \
            and self.cost == other.cost
