"""A cell is one (problem, method, parameters, seed) of a suite, and its key.

The key is a hash of the cell's canonical config: every method parameter with its defaults filled
in, the problem's name and parameters, its domain order and data fingerprint
(``problem.fingerprint()``), the method's code version, the seed, the budget, what is logged, and
the version of the code that scores it. Canonical means sorted keys, compact separators and
Python's shortest round-trip float repr, so equal configs give equal keys in any process on any
machine, and any changed parameter changes the key. Labels (study, display names) are not part of
the key: they say where a result is shown, not what was computed.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from tandem_ref.errors import BadInput

from .scoring import scorer_version
from .versions import code_version

# Bump when what a cell records changes (columns, logging rule): it enters every key.
CELL_FORMAT = 1


@dataclass
class Cell:
    kind: Literal["run", "claim"]  # a method on a problem, or a claim function of theory.claims
    problem: str  # problem registry name ("" for a claim)
    problem_params: dict
    method: str  # method registry name ("" for a claim)
    method_params: dict  # the method's parameters, or the claim's ({"profile": ...})
    seed: int
    budget: int = 0  # proxy steps
    log_points: int = 0  # trace rows kept, evenly spaced, the last always kept (0: every update)
    score: str = "none"  # a scorer of bench.scoring
    checkpoint_every: int = 0  # save the loop state every n updates (long cells); not in the key
    labels: dict = field(default_factory=dict)  # study, problem label, method label, grid values
    claim: str = ""  # the claim's registry name (theory.claims.CLAIMS) for a claim cell

    def as_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        if self.kind == "run":  # a run cell has no claim: manifests of run cells read as they always did
            del d["claim"]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Cell":
        return cls(**d)


def plain(x):
    """JSON-able plain Python value of x (numpy scalars and arrays, tuples); rejects NaN and inf,
    which have no canonical JSON form."""
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [plain(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        if not math.isfinite(x):
            raise BadInput(f"parameter value {x!r}: NaN and infinity are not allowed in a cell config")
        return float(x)
    if x is None or isinstance(x, str):
        return x
    raise BadInput(f"parameter value {x!r}: expected a number, string, boolean, list or table")


def canonical(config: dict) -> str:
    return json.dumps(plain(config), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def key_of(config: dict) -> str:
    return hashlib.sha256(canonical(config).encode()).hexdigest()[:20]


def run_config(cell: Cell, problem, method) -> dict:
    """The canonical config of a run cell, given its built problem and method."""
    return {"format": CELL_FORMAT, "kind": "run",
            "problem": {"name": cell.problem, "params": cell.problem_params,
                        "domains": list(problem.domains), "fingerprint": problem.fingerprint()},
            "method": {"name": cell.method, "params": method.params, "version": str(type(method).version)},
            "seed": cell.seed, "budget": cell.budget, "log_points": cell.log_points,
            "score": {"name": cell.score, "version": scorer_version(cell.score)}}


def claim_config(cell: Cell) -> dict:
    return {"format": CELL_FORMAT, "kind": "claim", "claim": cell.claim, "params": cell.method_params,
            "code": code_version("theory")}
