"""Suites: TOML files in this folder, each a grid of problems x methods x parameters x seeds.

The format is documented in README.md next to this file. ``load(name)`` reads and checks a suite
file; ``expand(suite, profile)`` turns it into cells. Every error names the file and the key (or
the line, for TOML syntax) and is a BadInput, so the command line exits 2 before writing anything.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tandem_ref.errors import BadInput

from ..cells import Cell

SUITE_DIR = Path(__file__).resolve().parent
PROFILES = ("quick", "full", "lm", "gpu")
# what bench.report.figures draws (kept here so reading a suite does not import matplotlib)
FIGURE_KINDS = {"trajectories": (), "mixtures": (), "twin_distance": (), "curve": ("x", "y"), "curves": (),
                "probes": ()}

_SUITE_KEYS = {"description", "profiles", "problems", "methods", "study", "report"}
_STUDY_KEYS = {"name", "title", "kind", "problems", "methods", "claims", "seeds", "budget", "log_points",
               "score", "params", "cases", "checkpoint_every", "exclude_methods", "figure", "notes", "profiles",
               "select"} | set(PROFILES)


@dataclass
class Suite:
    name: str
    path: Path
    description: str
    profiles: list[str]
    problems: dict  # label -> {"problem": registry name, **params}
    methods: dict  # label -> {"method": registry name, **params}
    studies: list[dict]
    report: dict = field(default_factory=dict)


def suite_paths() -> dict[str, Path]:
    return {p.stem: p for p in sorted(SUITE_DIR.glob("*.toml"))}


def folder(suite: "Suite", profile: str) -> str:
    """The suite's results folder under --out: its name for the quick profile, NAME@PROFILE for the
    others, so one results folder holds a smoke run and a deciding run of the same suite side by side."""
    return suite.name if profile == "quick" else f"{suite.name}@{profile}"


def suite_names() -> list[str]:
    return list(suite_paths())


def load(name_or_path: str) -> Suite:
    """A suite by name (a file in this folder) or by path to a .toml file."""
    paths = suite_paths()
    if name_or_path in paths:
        path = paths[name_or_path]
    elif name_or_path.endswith(".toml"):
        path = Path(name_or_path)
        if not path.is_file():
            raise BadInput(f"suite file {name_or_path}: not found")
    else:
        from tandem_ref.errors import unknown

        raise unknown("suite", name_or_path, paths)
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise BadInput(f"suite file {path}: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"suite file {path}: cannot read ({e})") from None
    return _parse(path, data)


def _parse(path: Path, d: dict) -> Suite:
    where = f"suite file {path}"
    _no_unknown(where, d, _SUITE_KEYS)
    profiles = d.get("profiles", ["quick", "full"])
    if not isinstance(profiles, list) or not all(p in PROFILES for p in profiles):
        raise BadInput(f"{where}: 'profiles' must be a list drawn from {', '.join(PROFILES)}, got {profiles!r}")
    named = {}
    for section, kind in (("problems", "problem"), ("methods", "method")):
        table = d.get(section, {})
        if not isinstance(table, dict):
            raise BadInput(f"{where}: '{section}' must be a table of named {kind} configs")
        for label, conf in table.items():
            if not isinstance(conf, dict) or not isinstance(conf.get(kind), str):
                raise BadInput(f"{where}: [{section}.{label}] needs a '{kind}' name")
        named[section] = table
    studies = d.get("study", [])
    if not isinstance(studies, list) or not studies:
        raise BadInput(f"{where}: needs at least one [[study]]")
    seen = set()
    for i, s in enumerate(studies):
        if not isinstance(s, dict) or not isinstance(s.get("name"), str):
            raise BadInput(f"{where}: study {i + 1} needs a 'name'")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", s["name"]) or ".." in s["name"]:
            raise BadInput(f"{where}: study name {s['name']!r} must be letters, digits, '_', '.' and '-' (it names "
                           "figure files)")
        if s["name"] in seen:
            raise BadInput(f"{where}: study name {s['name']!r} is used twice")
        seen.add(s["name"])
        _no_unknown(f"{where}: study {s['name']!r}", s, _STUDY_KEYS)
        _check_figures(f"{where}: study {s['name']!r}", s.get("figure"))
        only = s.get("profiles", PROFILES)
        if not isinstance(only, list | tuple) or not all(p in PROFILES for p in only):
            raise BadInput(f"{where}: study {s['name']!r}: 'profiles' must be a list drawn from {', '.join(PROFILES)}")
        from ..selection import check as check_select

        for p in [None, *PROFILES]:
            sel = (s if p is None else s.get(p, {})).get("select")
            check_select(f"{where}: study {s['name']!r}", sel,
                         [x.get("name") for x in studies if x is not s and not selects(x)])
        for p in PROFILES:
            if p in s:
                if not isinstance(s[p], dict):
                    raise BadInput(f"{where}: study {s['name']!r}: [{p}] must be a table of overrides")
                _no_unknown(f"{where}: study {s['name']!r} [{p}]", s[p], _STUDY_KEYS - set(PROFILES))
    report = d.get("report", {})
    metrics = report.get("metrics", []) if isinstance(report, dict) else None
    if not isinstance(report, dict) or set(report) - {"metrics", "margin", "effect"} or not (
            isinstance(metrics, list) and all(isinstance(m, str) for m in metrics)):
        raise BadInput(f"{where}: [report] takes 'metrics' (a list of column names for the summary table), "
                       "'margin' (an equivalence margin) and 'effect' (the smallest effect of interest)")
    for key in ("margin", "effect"):  # relative to uniform's loss, declared before the run
        v = report.get(key, 0.01)
        if not (isinstance(v, float | int) and not isinstance(v, bool) and 0 < v < 1):
            raise BadInput(f"{where}: [report] {key!r} must be a relative size in (0, 1), got {v!r}")
    return Suite(name=path.stem, path=path, description=str(d.get("description", "")), profiles=profiles,
                 problems=named["problems"], methods=named["methods"], studies=studies,
                 report=report)


def _check_figures(where: str, spec) -> None:
    specs = [] if spec is None else spec if isinstance(spec, list) else [spec]
    for f in specs:
        if not isinstance(f, dict) or f.get("kind") not in FIGURE_KINDS:
            raise BadInput(f"{where}: 'figure' needs a kind, one of {', '.join(FIGURE_KINDS)}")
        for k in FIGURE_KINDS[f["kind"]]:
            if not isinstance(f.get(k), str):
                raise BadInput(f"{where}: a {f['kind']!r} figure needs '{k}' (a column name)")


def _no_unknown(where: str, d: dict, known: set) -> None:
    for k in d:
        if k not in known:
            raise BadInput(f"{where}: unknown key {k!r} (known: {', '.join(sorted(known))})")


def study_for_profile(study: dict, profile: str) -> dict:
    """The study with its [profile] overrides merged in (the params table merged key by key)."""
    over = study.get(profile, {})
    out = {k: v for k, v in study.items() if k not in PROFILES}
    for k, v in over.items():
        out[k] = {**out.get(k, {}), **v} if k == "params" and isinstance(v, dict) else v
    return out


def check_profile(suite: Suite, profile: str) -> None:
    if profile not in suite.profiles:
        raise BadInput(f"profile {profile!r}: suite {suite.name!r} has profiles {', '.join(suite.profiles)}")


def expand(suite: Suite, profile: str, resolve=None, pending: list | None = None) -> list[Cell]:
    """Every cell of the suite's profile, in a deterministic order.

    A study with ``select`` (bench/selection.py) adds methods chosen from an earlier study's stored
    results: ``resolve(study, specs, cells_so_far)`` returns those (label, name, params) entries, or
    None while the source cells are not all stored; such a study is then left out and its name
    appended to ``pending``. Without ``resolve`` every select study is pending."""
    check_profile(suite, profile)
    cells = []
    # studies that select from others' results come after every other study (their sources)
    ordered = [s for s in suite.studies if not selects(s)] + [s for s in suite.studies if selects(s)]
    for raw in ordered:
        if profile not in raw.get("profiles", PROFILES):
            continue
        study = study_for_profile(raw, profile)
        where = f"suite {suite.name!r}, study {study['name']!r}"
        if study.get("kind", "run") == "claim":
            cells += _claim_cells(study, profile, where)
        elif study.get("kind", "run") == "run":
            extra = []
            if study.get("select"):
                from ..selection import check as check_select

                specs = check_select(where, study["select"], [x["name"] for x in suite.studies])
                extra = None if resolve is None else resolve(study, specs, cells)
                if extra is None:
                    if pending is not None:
                        pending.append(study["name"])
                    continue
            cells += _run_cells(suite, study, where, extra)
        else:
            raise BadInput(f"{where}: 'kind' must be 'run' or 'claim', got {study['kind']!r}")
    return cells


def selects(study: dict) -> bool:
    """Whether a study (in any profile) selects from another study's results."""
    return bool(study.get("select")) or any(isinstance(study.get(p), dict) and study[p].get("select")
                                            for p in PROFILES)


def _claim_cells(study, profile, where) -> list[Cell]:
    from theory.claims import CLAIMS  # here, not at the top: the claims import every family and the catalogue

    names = study.get("claims", "*")
    names = list(CLAIMS) if names == "*" else names
    if not isinstance(names, list):
        raise BadInput(f"{where}: 'claims' must be \"*\" or a list of claim names")
    cells = []
    for n in names:
        if n not in CLAIMS:
            from tandem_ref.errors import unknown

            raise unknown("claim", n, CLAIMS)
        cells.append(Cell(kind="claim", problem="", problem_params={}, method=n,
                          method_params={"profile": profile}, seed=0,
                          labels={"study": study["name"], "problem_label": "", "method_label": n}))
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


def _run_cells(suite: Suite, study: dict, where: str, extra=()) -> list[Cell]:
    from tandem_ref.registry import default_method_names

    from ..problems import family_names

    def default_score(problem_name):
        return "exact" if problem_name in _exact_problems() else "none"

    # "*" means every controlled family (not the LM): the library's quadratic until theory is there
    problems = _labels(study.get("problems"), suite.problems, lambda: family_names() or ["quadratic"],
                       "problem", where)
    methods = (_labels(study.get("methods"), suite.methods, default_method_names, "method", where)
               if study.get("methods") else []) + list(extra)
    if not methods:
        raise BadInput(f"{where}: 'methods' must be \"*\", a name or a non-empty list of names")
    exclude = study.get("exclude_methods", [])
    if not isinstance(exclude, list) or not all(m in {label for label, _, _ in methods} for m in exclude):
        raise BadInput(f"{where}: 'exclude_methods' must list methods of the study, got {exclude!r}")
    methods = [m for m in methods if m[0] not in exclude]
    seeds = _seeds(study.get("seeds", 1), where)
    budget = study.get("budget", 0)
    log_points = study.get("log_points", 20)
    checkpoint = study.get("checkpoint_every", 0)
    for name, v in (("budget", budget), ("log_points", log_points), ("checkpoint_every", checkpoint)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise BadInput(f"{where}: '{name}' must be a non-negative integer, got {v!r}")
    cells = []
    for combo in _grid(study.get("params", {}), study.get("cases", [{}]), where):
        # methods innermost: the cells of one problem instance run one after another (its optimum is cached)
        for (plabel, pname, pparams), seed, (mlabel, mname, mparams) in itertools.product(problems, seeds, methods):
            pp = {**pparams, **{k[8:]: v for k, v in combo.items() if k.startswith("problem.")}}
            mp = {**mparams, **{k[7:]: v for k, v in combo.items() if k.startswith("method.")}}
            labels = {"study": study["name"], "problem_label": plabel, "method_label": mlabel, "grid": dict(combo)}
            cells.append(Cell(kind="run", problem=pname, problem_params=pp, method=mname, method_params=mp,
                              seed=seed, budget=combo.get("budget", budget), log_points=log_points,
                              score=study.get("score", default_score(pname)), checkpoint_every=checkpoint,
                              labels=labels))
    return cells


def _exact_problems() -> set[str]:
    from ..problems import family_names

    return set(family_names()) | {"quadratic"}


def print_listing(what: str) -> None:
    """The 'suites:' section of ``tandem-bench list``."""
    if what not in ("all", "suites"):
        return
    print("suites:")
    for name in suite_names():
        try:
            s = load(name)
            print(f"  {name:16s} [{', '.join(s.profiles)}] {s.description}")
        except BadInput as e:
            print(f"  {name:16s} (unreadable: {e})")
