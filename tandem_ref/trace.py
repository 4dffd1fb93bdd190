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
    # what an online method's signal reported at each logged update, under the signal's own names
    # (TANDEM's penalty_gap, DoGE's alignment, Aioli's A): name -> array with the updates first
    diagnostics: dict = field(default_factory=dict)

    @classmethod
    def build(cls, method: str, params: dict, domains, seed: int, budget: int, *, output, steps=(), alpha=None,
              alpha_avg=None, scores=None, twin_distance=None, penalty_gap=None, grad_steps=None, alpha_last=None,
              alpha_average=None, cost=None, diagnostics=None) -> "Trace":
        """The one constructor every method's trace goes through: what a method does not log is
        filled in (NaN signals and twin columns, the trajectory's own mixture as its running average,
        the returned mixture as the last and averaged one, zero cost)."""
        m, T = len(domains), len(steps)
        nan = lambda *shape: np.full(shape, np.nan)  # noqa: E731
        f64 = lambda x, default: default if x is None else np.asarray(x, dtype=np.float64)  # noqa: E731
        output = np.asarray(output, dtype=np.float64)
        alpha = f64(alpha, np.zeros((T, m)))
        zero = {"grad_steps": 0, "forward_evals": 0, "examples": 0, "tokens": 0, "flops": 0.0}
        return cls(method=method, params=dict(params), domains=list(domains), seed=int(seed), budget=int(budget),
                   steps=np.asarray(steps, dtype=np.int64), alpha=alpha, alpha_avg=f64(alpha_avg, alpha.copy()),
                   scores=f64(scores, nan(T, m)), twin_distance=f64(twin_distance, nan(T)),
                   penalty_gap=f64(penalty_gap, nan(T)),
                   grad_steps=np.zeros(T, dtype=np.int64) if grad_steps is None else np.asarray(grad_steps, np.int64),
                   output=output, alpha_last=f64(alpha_last, output.copy()),
                   alpha_average=f64(alpha_average, output.copy()), cost=dict(zero if cost is None else cost),
                   diagnostics=dict(diagnostics or {}))

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

    def to_json(self) -> dict:
        """The trace as JSON-ready data (what ``tandem-bench mix`` and the torchrun entry point write):
        the returned, last and averaged mixtures by domain, and per logged update the proxy steps, the
        mixture, the signal it ascended and the signal's own diagnostics; the cost."""
        doms = self.domains
        by_domain = lambda a: dict(zip(doms, np.asarray(a, dtype=np.float64).tolist()))  # noqa: E731
        trajectory = []
        for t, step in enumerate(self.steps):
            entry = {"step": int(step), "weights": by_domain(self.alpha[t]), "scores": _nulls(self.scores[t]),
                     "weights_average": by_domain(self.alpha_avg[t]), "grad_steps": int(self.grad_steps[t]),
                     "twin_distance": _nulls(self.twin_distance[t]), "penalty_gap": _nulls(self.penalty_gap[t])}
            if self.diagnostics:
                entry["diagnostics"] = {k: _nulls(v[t]) for k, v in self.diagnostics.items()}
            trajectory.append(entry)
        return {"method": self.method, "params": self.params, "seed": self.seed, "budget": self.budget,
                "weights": self.weights, "weights_last": by_domain(self.alpha_last),
                "weights_average": by_domain(self.alpha_average), "trajectory": trajectory, "cost": dict(self.cost)}

    def save(self, path, **extra) -> None:
        """Write ``to_json`` (and ``extra`` keys beside it: a run's cost, its data) atomically; NaN as null."""
        from .atomic import write_json

        write_json(path, {**self.to_json(), **extra})

    @classmethod
    def load(cls, path) -> "Trace":
        """The Trace a ``save`` wrote (bitwise: every recorded array, the cost and the diagnostics)."""
        import json
        from pathlib import Path

        d = json.loads(Path(path).read_text())
        doms, traj = list(d["weights"]), d["trajectory"]
        f64 = lambda x: np.array(x, dtype=np.float64)  # noqa: E731  (null -> NaN)
        mat = lambda key: f64([[e[key][k] for k in doms] for e in traj]).reshape(len(traj), len(doms))  # noqa: E731
        col = lambda key: f64([e[key] for e in traj]).reshape(len(traj))  # noqa: E731
        diag = {k: np.stack([f64(e["diagnostics"][k]) for e in traj]) for k in traj[0].get("diagnostics", {})} \
            if traj else {}
        return cls.build(d["method"], d["params"], doms, d["seed"], d["budget"],
                         output=[d["weights"][k] for k in doms], steps=[e["step"] for e in traj],
                         alpha=mat("weights"), alpha_avg=mat("weights_average"),
                         scores=f64([e["scores"] for e in traj]).reshape(len(traj), len(doms)),
                         twin_distance=col("twin_distance"), penalty_gap=col("penalty_gap"),
                         grad_steps=[e["grad_steps"] for e in traj], alpha_last=[d["weights_last"][k] for k in doms],
                         alpha_average=[d["weights_average"][k] for k in doms], cost=d["cost"], diagnostics=diag)

    def equal(self, other: "Trace") -> bool:
        """Bitwise equality of every recorded array (NaN equals NaN)."""
        names = ["steps", "alpha", "alpha_avg", "scores", "twin_distance", "penalty_gap",
                 "grad_steps", "output", "alpha_last", "alpha_average"]
        same = lambda a, b: np.array_equal(a, b, equal_nan=True)  # noqa: E731
        return all(same(getattr(self, n), getattr(other, n)) for n in names) and self.cost == other.cost \
            and self.diagnostics.keys() == other.diagnostics.keys() \
            and all(same(v, other.diagnostics[k]) for k, v in self.diagnostics.items())


def _nulls(x):
    """An array (any shape) or number as JSON: nested lists, NaN (a part a method does not log) as null, so
    the file stays JSON."""
    a = np.asarray(x, dtype=np.float64)
    return np.where(np.isfinite(a), a, None).tolist()
