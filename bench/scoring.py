"""Scorers: the numbers each logged mixture of a run is judged by.

A scorer is ``make(problem, cache) -> score(alpha) -> dict`` (so the exact optimum is computed once
per cell, not once per row) and has a code version that enters cell keys. A score function with
``final_only = True`` is applied to the returned mixture only, not to every logged one.
"exact" uses theory's ground truth (research/theory.md section 6, "Scoring any method's output");
"none" records nothing, for problems without a known optimum; "lm-target" trains a fresh LM on the
returned mixture (the paper's Stage Two) and records per-domain and average test perplexity
(bench.lm.target.stage_two_scorer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from tandem_ref.atomic import write_json
from tandem_ref.names import Registry, resolve

from .versions import code_version


def _exact(problem, cache: Path | None = None):
    from theory import exact, scores

    opt = _optimum(problem, cache)
    m = len(problem.domains)
    f_uniform = float(exact.F(problem, np.full(m, 1.0 / m)))
    constants = {"F_star": float(opt.F), "F_uniform": f_uniform}
    constants.update({f"alpha_star.{d}": float(a) for d, a in zip(problem.domains, opt.alpha)})

    def score(alpha) -> dict:
        alpha = np.asarray(alpha, dtype=np.float64)
        s = scores.score(problem, alpha, optimum=opt)
        out = {"F": float(exact.F(problem, alpha))}
        out.update({k: float(v) if v is not None else np.nan for k, v in s.items()})
        return {**out, **constants}

    return score


def _optimum(problem, cache: Path | None):
    """theory's certified optimum, kept on disk by problem fingerprint and theory version: every
    method and every worker process scoring the same instance shares one solve (seconds for the
    logistic family). A stored optimum is used only if F and the Frank-Wolfe gap recomputed at its
    alpha are bitwise the stored ones (one F and one hypergradient, not a solve): a file from another
    kernel, a torn or an edited one is solved again and rewritten. One file per problem: writing
    removes the problem's files of other theory versions."""
    from theory import exact
    from theory.simplex_opt import fw_gap

    if cache is None:
        return exact.optimum(problem)
    fp = problem.fingerprint()
    path = Path(cache) / f"{fp}-{scorer_version('exact')}.json"
    try:
        d = json.loads(path.read_text())
        alpha = np.asarray(d["alpha"], dtype=np.float64)
        if (alpha.shape == (len(problem.domains),) and float(exact.F(problem, alpha)) == d["F"]
                and fw_gap(exact.hypergradient(problem, alpha), alpha) == d["fw_gap"]):
            return exact.Optimum(alpha, d["F"], d["fw_gap"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    opt = exact.optimum(problem)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, {"alpha": [float(a) for a in opt.alpha], "F": float(opt.F), "fw_gap": float(opt.fw_gap)})
    for stale in path.parent.glob(f"{fp}-*.json"):
        if stale != path:
            stale.unlink(missing_ok=True)
    return opt


def _none(problem, cache=None):
    return lambda alpha: {}


@dataclass(frozen=True)
class Scorer:
    """A scorer: ``make(problem, cache) -> score`` (the function, or a ``"module:attr"`` string imported
    when a cell first scores, as problems are listed: so this module imports nothing of the LM), and
    the version of the code its numbers depend on, which enters every cell key: a tuple of modules
    (versioned by the hash of their source), a version string, or nothing ("0")."""

    make: Callable | str
    depends_on: tuple | str = ()

    def build(self, problem, cache=None):
        return resolve(self.make)(problem, cache)

    @property
    def version(self) -> str:
        if isinstance(self.depends_on, str):
            return self.depends_on
        return code_version(*self.depends_on) if self.depends_on else "0"


# "lm-target" (everything a Stage-Two score and an LM proxy run depend on: bench.lm's problem, batches,
# target run, trainer, model, tokens, corpus, SFT tasks, alignment, ddp) has a version number instead of
# a source hash, LM_TARGET_VERSION: its cells cost 90 minutes to recompute, and a hash of the source
# would discard them on a change that moves no number (a file split, a docstring). What guards it is a
# behaviour test: tests/lm/test_golden_lm.py pins the numbers of small runs through every one of those
# paths and fails on any change that moves them, until this version and its numbers are changed
# together. Its value was the source hash of the stack the LM results were computed with until torch's
# kernels were pinned to their AVX2 path (bench.blas_kernel.pin_torch), which moved every LM number in
# its low bits (the golden numbers by up to 9e-6 relative): "avx2-pin-1", every LM cell recomputed.
LM_TARGET_VERSION = "avx2-pin-1"

# A scorer with ``final_only = True`` scores only the mixture a method returns (its rows get none).
SCORERS = Registry("scorer", {
    # theory's optima and scores, not its catalogue and claims, which change more often and would
    # invalidate every stored cell
    "exact": Scorer(_exact, ("theory.exact", "theory.scores", "theory.simplex_opt", "theory.families")),
    "none": Scorer(_none),
    "lm-target": Scorer("bench.lm.target:stage_two_scorer", LM_TARGET_VERSION),
})


def make_scorer(name: str, problem, cache: Path | None = None):
    return SCORERS.load(name).build(problem, cache)


def scorer_version(name: str) -> str:
    return SCORERS.load(name).version
