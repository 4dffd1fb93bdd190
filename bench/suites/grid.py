"""A suite's profile as cells: every study's problems x seeds x methods x parameter grid."""

from __future__ import annotations

import itertools

from tandem_ref.errors import BadInput
from tandem_ref.names import resolve as resolve_target

from ..cells import KINDS, Cell
from ..selection import check as check_select
from .schema import Study, Suite


def check_profile(suite: Suite, profile: str) -> None:
    if profile not in suite.profiles:
        raise BadInput(f"profile {profile!r}: suite {suite.name!r} has profiles {', '.join(suite.profiles)}")


def expand(suite: Suite, profile: str, resolve=None, pending: list | None = None) -> list[Cell]:
    """Every cell of the suite's profile, in a deterministic order.

    A study with ``select`` (bench/selection.py) adds methods chosen from an earlier study's stored
    results: ``resolve(study, specs, cells_so_far)`` returns those (label, name, params, problem)
    entries, or None while the source cells are not all stored, and the cells its sources' grids
    gain at their edges (``extend``), which join the plan either way; a study left out is appended
    to ``pending``. Without ``resolve`` every select study is pending."""
    check_profile(suite, profile)
    cells = []
    # studies that select from others' results come after every other study (their sources)
    ordered = [s for s in suite.studies if not s.selects] + [s for s in suite.studies if s.selects]
    for spec in ordered:
        if profile not in spec.profiles:
            continue
        study = spec.at(profile)
        extra = []
        if study.select:
            specs = check_select(spec.where, study.select, [x.name for x in suite.studies])
            extra, added = (None, []) if resolve is None else resolve(study, specs, cells)
            cells += [c for c in added if c not in cells]
            if extra is None:
                if pending is not None:
                    pending.append(study.name)
                continue
        cells += resolve_target(KINDS[study.kind].plan)(suite, study, profile, spec.where, extra)
    return cells


def claim_cells(suite: Suite, study: Study, profile: str, where: str, extra=()) -> list[Cell]:
    """A claim study's cells (cells.ClaimKind): one per claim of theory.claims it names, on the profile."""
    from theory.claims import CLAIMS  # here, not at the top: the claims import every family and the catalogue

    names = list(CLAIMS) if study.claims == "*" else study.claims
    if not isinstance(names, list):
        raise BadInput(f"{where}: 'claims' must be \"*\" or a list of claim names")
    cells = []
    for n in names:
        CLAIMS.load(n)  # an unknown name is one line naming the known claims
        cells.append(Cell(kind="claim", problem="", problem_params={}, method="", claim=n,
                          method_params={"profile": profile}, seed=0,
                          labels={"study": study.name, "problem_label": "", "method_label": n}))
    return cells


def _labels(value, named: dict, registry, kind: str, where: str) -> list[tuple[str, str, dict]]:
    """(label, registry name, params) for each entry of a study's 'problems' or 'methods'."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise BadInput(f"{where}: '{kind}s' must be \"*\", a name or a non-empty list of names")
    # "*" stands for every registered name, so a new method or family joins the suite by itself
    value = [x for v in value for x in (registry() if v == "*" else [v])]
    out = []
    for label in value:
        if label in named:
            conf = dict(named[label])
            out.append((label, conf.pop(kind), conf))
        elif isinstance(label, str):
            out.append((label, label, {}))
        else:
            raise BadInput(f"{where}: '{kind}s' entries must be names, got {label!r}")
    return out


def _grid(params: dict, cases, where: str) -> list[dict]:
    """The cartesian product of the list-valued entries of ``params`` (scalars are fixed) and of
    ``cases``, a list of tables whose entries vary together (a budget matched to a probe length).
    A list value is written as an axis of one list: "problem.beta" = [[0.5, 0.3, 0.2]]."""
    if not isinstance(params, dict):
        raise BadInput(f"{where}: 'params' must be a table")
    if not isinstance(cases, list) or not cases or not all(isinstance(c, dict) for c in cases):
        raise BadInput(f"{where}: 'cases' must be a non-empty list of tables")
    for case in cases:
        for k, v in case.items():
            _check_param(k, v, where)
    axes = [cases]
    for k, v in params.items():
        values = v if isinstance(v, list) else [v]
        if not values:
            raise BadInput(f"{where}: params key {k!r} has an empty list of values")
        for x in values:
            _check_param(k, x, where)
        axes.append([{k: x} for x in values])
    return [{k: v for part in combo for k, v in part.items()} for combo in itertools.product(*axes)]


def _check_param(k: str, v, where: str) -> None:
    if not (k.startswith("problem.") or k.startswith("method.") or k == "budget"):
        raise BadInput(f"{where}: params key {k!r} must be 'problem.<name>', 'method.<name>' or 'budget'")
    if k == "budget" and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
        raise BadInput(f"{where}: 'budget' values must be positive integers, got {v!r}")


def _seeds(value, where) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return list(range(value))
    if isinstance(value, list) and value and all(isinstance(s, int) and not isinstance(s, bool) for s in value):
        return value
    raise BadInput(f"{where}: 'seeds' must be a positive count or a list of integers, got {value!r}")


def run_cells(suite: Suite, study: Study, profile: str, where: str, extra=()) -> list[Cell]:
    """A run study's cells (cells.RunKind): problems x seeds x methods (and the selected entries) x grid."""
    from tandem_ref.registry import default_method_names

    from ..problems import family_names

    # "*" means every controlled family (not the LM)
    problems = _labels(study.problems, suite.problems, family_names, "problem", where)
    # (label, name, params, problem label or None): a selected entry may run on one problem only
    methods = [(*m, None) for m in (_labels(study.methods, suite.methods, default_method_names, "method", where)
                                    if study.methods else [])] + [tuple(e) for e in extra]
    if not methods:
        raise BadInput(f"{where}: 'methods' must be \"*\", a name or a non-empty list of names")
    exclude = study.exclude_methods
    if not isinstance(exclude, list) or not all(m in {m[0] for m in methods} for m in exclude):
        raise BadInput(f"{where}: 'exclude_methods' must list methods of the study, got {exclude!r}")
    methods = [m for m in methods if m[0] not in exclude]
    only = [m for m in methods if m[3] is not None and m[3] not in {label for label, _, _ in problems}]
    if only:
        raise BadInput(f"{where}: selected method {only[0][0]!r} runs on problem {only[0][3]!r}, "
                       f"which is not a problem of the study")
    seeds = _seeds(study.seeds, where)
    exact = set(family_names())
    cells = []
    for combo in _grid(study.params, study.cases, where):
        # methods innermost: the cells of one problem instance run one after another (its optimum is cached)
        for (plabel, pname, pparams), seed, (mlabel, mname, mparams, mon) in itertools.product(problems, seeds,
                                                                                                methods):
            if mon is not None and mon != plabel:
                continue
            pp = {**pparams, **{k.removeprefix("problem."): v for k, v in combo.items() if k.startswith("problem.")}}
            mp = {**mparams, **{k.removeprefix("method."): v for k, v in combo.items() if k.startswith("method.")}}
            labels = {"study": study.name, "problem_label": plabel, "method_label": mlabel, "grid": dict(combo)}
            score = study.score or ("exact" if pname in exact else "none")
            cells.append(Cell(kind="run", problem=pname, problem_params=pp, method=mname, method_params=mp,
                              seed=seed, budget=combo.get("budget", study.budget), log_points=study.log_points,
                              score=score, checkpoint_every=study.checkpoint_every, labels=labels))
    return cells
