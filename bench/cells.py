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
from typing import ClassVar, Literal

import numpy as np

from tandem_ref.errors import BadInput, require_int
from tandem_ref.names import Registry

from .scoring import scorer_version
from .versions import code_version

# Bump when what a cell records changes (columns, logging rule): it enters every key.
CELL_FORMAT = 1


@dataclass
class Cell:
    kind: Literal["run", "claim"]  # a name of KINDS: a method on a problem, or a claim function of theory.claims
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
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in KINDS[self.kind].unused}

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


def build(cell: Cell):
    """The problem and method of a run cell. "problem.seed" fixes the instance across run seeds."""
    from tandem_ref.registry import get_method

    from .problems import make_problem

    params = dict(cell.problem_params)
    instance_seed = params.pop("seed", cell.seed)
    threads = params.pop("threads", None)  # the cell's torch threads: a setting of the process (compute pins it)
    if threads is not None:
        require_int(f"problem {cell.problem!r}: threads", threads, 1)
    problem = make_problem(cell.problem, instance_seed, params)
    method = get_method(cell.method, **cell.method_params)
    return problem, method


# --- the kinds of cell -----------------------------------------------------------------------------

def _flat(prefix: str, params: dict) -> dict:
    # list and table values become JSON text so every column has one type
    return {f"{prefix}{k}": json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in params.items()}


class CellKind:
    """What one kind of cell is: the canonical config its key hashes, how it is computed, what it adds
    to its tidy rows and how a report names it. ``compute`` is a "module:attr" (planned, state path,
    cells folder, pin_torch) -> (rows, provenance) and ``plan`` one that makes a study's cells, resolved
    when used: the code that plans and computes sits above this module (bench.suites, bench.compute),
    as a scorer's does (bench.scoring)."""

    name: ClassVar[str]
    plan: ClassVar[str]  # "module:attr": (suite, study, profile, where, selected entries) -> the study's cells
    compute: ClassVar[str]
    method_rows: ClassVar[bool]  # its rows are a method's run (the suite summary), else a claim's verdicts
    unused: ClassVar[tuple] = ()  # Cell fields it has no use for (left out of its manifest entry)

    def config(self, cell: Cell, built=None) -> dict:
        raise NotImplementedError

    def table_fields(self, cell: dict, config: dict) -> dict:
        raise NotImplementedError

    def title(self, labels: dict, cell: dict) -> str:
        raise NotImplementedError


class RunKind(CellKind):
    """A method on a problem: its key covers the built problem (domains, data fingerprint) and the
    method's parameters with defaults filled in."""

    name, compute, method_rows = "run", "bench.compute:run_rows", True
    plan = "bench.suites.grid:run_cells"
    unused = ("claim",)  # manifests of run cells read as they always did

    def config(self, cell: Cell, built=None) -> dict:
        problem, method = built or build(cell)
        return {"format": CELL_FORMAT, "kind": "run",
                "problem": {"name": cell.problem, "params": cell.problem_params,
                            "domains": list(problem.domains), "fingerprint": problem.fingerprint()},
                "method": {"name": cell.method, "params": method.params, "version": str(type(method).version)},
                "seed": cell.seed, "budget": cell.budget, "log_points": cell.log_points,
                "score": {"name": cell.score, "version": scorer_version(cell.score)}}

    def table_fields(self, cell: dict, config: dict) -> dict:
        return {**_flat("problem.", cell["problem_params"]), **_flat("method.", config["method"]["params"])}

    def title(self, labels: dict, cell: dict) -> str:
        grid = ", ".join(f"{k}={v}" for k, v in labels.get("grid", {}).items())
        return (f"{labels['study']}: {labels['method_label']} on {labels['problem_label']}, seed {cell['seed']}"
                + (f" ({grid})" if grid else ""))


class ClaimKind(CellKind):
    """A claim function of theory.claims on a profile: its rows are verdicts; its key covers theory's source."""

    name, compute, method_rows = "claim", "bench.compute:claim_rows", False
    plan = "bench.suites.grid:claim_cells"

    def config(self, cell: Cell, built=None) -> dict:
        return {"format": CELL_FORMAT, "kind": "claim", "claim": cell.claim, "params": cell.method_params,
                "code": code_version("theory")}

    def table_fields(self, cell: dict, config: dict) -> dict:
        return {"claim_name": cell["claim"]}

    def title(self, labels: dict, cell: dict) -> str:
        return f"claim {cell['claim']}"


KINDS = Registry("cell kind", {k.name: k() for k in (RunKind, ClaimKind)})


def method_kinds() -> list[str]:
    """The kinds whose rows are a method's run (the rest are verdicts)."""
    return [n for n, k in KINDS.items() if k.method_rows]


def config_of(cell: Cell, built=None) -> dict:
    """The canonical config of a cell (``built``: a run cell's problem and method, where already built)."""
    return KINDS[cell.kind].config(cell, built)
