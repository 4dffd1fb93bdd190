"""A suite file's schema: typed dataclasses read from TOML and checked as they are built.

A suite is ``Suite`` (named problem and method configs, studies, a report table); a study as
written is a ``StudySpec`` (its base keys and per-profile override tables); a study as one profile
runs it is a ``Study``, every key typed with its default. Every error names the file, the study
and the key, and is a BadInput (exit 2 before anything is written). The format: README.md here.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tandem_ref.errors import BadInput
from tandem_ref.names import Registry, resolve

from ..cells import KINDS  # the kinds of cell a study can be (bench.cells)

# every profile, with what it is for (the CLI's --help is built from this)
PROFILE_HELP = {"quick": "smoke runs of every suite on a 2-core CPU (the main job, minutes)",
                "full": "larger grids, more seeds and longer budgets on a CPU (hours)",
                "lm": "the deciding small-LM runs: tuning, a grid of fixed mixtures, 8-10 paired seeds "
                      "(90 min, 2 cores)",
                "scale": "the CPU model-size ladder (0.07M-2.5M): LM-1 and LM-2 per size, rank agreement across "
                         "sizes, transfer LM-6, efficiency LM-7 (about 105 min from empty caches, 2 cores)",
                "gpu": "the LM ladder on a GPU (cuda, bf16)"}
PROFILES = tuple(PROFILE_HELP)


@dataclass(frozen=True)
class FigureKind:
    """A kind of figure a study can ask for: the function that draws it (``"module:attr"``, imported
    when a report draws, so reading a suite does not import matplotlib) and the keys its spec needs."""

    draw: str
    requires: tuple = ()

    def function(self):
        return resolve(self.draw)


# every figure kind, the one list (bench.report.figures draws from it)
FIGURE_KINDS = Registry("figure kind", {
    name: FigureKind(f"bench.report.figures:{name}", requires)
    for name, requires in (("trajectories", ()), ("mixtures", ()), ("twin_distance", ()), ("curve", ("x", "y")),
                           ("curves", ()), ("probes", ()))})

_SUITE_KEYS = {"description", "profiles", "problems", "methods", "study", "report"}
_STUDY_KEYS = {"name", "title", "kind", "problems", "methods", "claims", "seeds", "budget", "log_points",
               "score", "params", "cases", "checkpoint_every", "exclude_methods", "figure", "notes", "profiles",
               "select"}
# what a manifest records of each study (bench.runner.write_manifest): what the report draws
MANIFEST_KEYS = ("name", "title", "figure", "notes")


@dataclass(frozen=True)
class Study:
    """One study as one profile runs it (its [profile] overrides merged in)."""

    name: str
    kind: str = "run"
    title: str | None = None
    problems: object = None  # "*", a label, or a list of labels (bench.suites.grid)
    methods: object = None
    claims: object = "*"
    seeds: object = 1  # a count or a list of seeds
    budget: int = 0
    log_points: int = 20
    score: str | None = None  # None: "exact" for a controlled family, else "none"
    params: dict = field(default_factory=dict)  # grid axes: "problem.X", "method.X", "budget"
    cases: list = field(default_factory=lambda: [{}])  # tables whose entries vary together
    checkpoint_every: int = 0
    exclude_methods: list = field(default_factory=list)
    select: list | None = None  # methods chosen from another study's results (bench/selection.py)
    raw: dict = field(default_factory=dict, repr=False)  # the merged table as written

    @classmethod
    def from_table(cls, d: dict, where: str) -> "Study":
        for name in ("budget", "log_points", "checkpoint_every"):
            v = d.get(name, 0)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise BadInput(f"{where}: '{name}' must be a non-negative integer, got {v!r}")
        kind = d.get("kind", "run")
        if kind not in KINDS:
            raise BadInput(f"{where}: 'kind' must be one of {', '.join(map(repr, KINDS))}, got {kind!r}")
        keys = {k: d[k] for k in ("title", "problems", "methods", "claims", "seeds", "budget", "log_points",
                                  "score", "params", "cases", "checkpoint_every", "exclude_methods", "select")
                if k in d}
        return cls(name=d["name"], kind=kind, raw=dict(d), **keys)

    def manifest_entry(self) -> dict:
        return {k: v for k, v in self.raw.items() if k in MANIFEST_KEYS}


@dataclass(frozen=True)
class StudySpec:
    """A study as written: its base keys, and the tables of overrides of each profile."""

    name: str
    base: dict
    overrides: dict  # profile -> table
    where: str

    @property
    def profiles(self) -> tuple:
        return tuple(self.base.get("profiles", PROFILES))

    @property
    def selects(self) -> bool:
        """Whether the study (in any profile) selects from another study's results."""
        return bool(self.base.get("select")) or any(o.get("select") for o in self.overrides.values())

    def at(self, profile: str) -> Study:
        """The study as ``profile`` runs it: overrides merged in (the params table key by key)."""
        out = {k: v for k, v in self.base.items() if k != "profiles"}
        for k, v in self.overrides.get(profile, {}).items():
            out[k] = {**out.get(k, {}), **v} if k == "params" and isinstance(v, dict) else v
        return Study.from_table(out, self.where)


@dataclass(frozen=True)
class Report:
    """The [report] table: summary columns, and the relative sizes declared before the run: the
    equivalence margin (``margin``) and the smallest effect of interest (``effect``)."""

    metrics: tuple = ()
    margin: float = 0.01
    effect: float = 0.01
    raw: dict = field(default_factory=dict, repr=False)

    def get(self, key: str, default=None):
        return self.raw.get(key, default)

    def as_dict(self) -> dict:
        return dict(self.raw)


@dataclass
class Suite:
    name: str
    path: Path
    description: str
    profiles: list[str]
    problems: dict  # label -> {"problem": registry name, **params}
    methods: dict  # label -> {"method": registry name, **params}
    studies: list[StudySpec]
    report: Report = field(default_factory=Report)


def read(path: Path) -> Suite:
    """Read and check one suite file."""
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise BadInput(f"suite file {path}: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"suite file {path}: cannot read ({e})") from None
    return parse(path, data)


def parse(path: Path, d: dict) -> Suite:
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
    specs = [_study(where, i, s, studies, path.stem) for i, s in enumerate(studies)]
    names = [s.name for s in specs]
    for n in names:
        if names.count(n) > 1:
            raise BadInput(f"{where}: study name {n!r} is used twice")
    return Suite(name=path.stem, path=path, description=str(d.get("description", "")), profiles=profiles,
                 problems=named["problems"], methods=named["methods"], studies=specs, report=_report(where, d))


def _study(where: str, i: int, s, studies: list, suite: str) -> StudySpec:
    from ..selection import check as check_select

    if not isinstance(s, dict) or not isinstance(s.get("name"), str):
        raise BadInput(f"{where}: study {i + 1} needs a 'name'")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", s["name"]) or ".." in s["name"]:
        raise BadInput(f"{where}: study name {s['name']!r} must be letters, digits, '_', '.' and '-' (it names "
                       "figure files)")
    here = f"{where}: study {s['name']!r}"
    _no_unknown(here, s, _STUDY_KEYS | set(PROFILES))
    _check_figures(here, s.get("figure"))
    only = s.get("profiles", PROFILES)
    if not isinstance(only, list | tuple) or not all(p in PROFILES for p in only):
        raise BadInput(f"{here}: 'profiles' must be a list drawn from {', '.join(PROFILES)}")
    # a source is any study that selects nothing, or a selecting one declared earlier (planned in an
    # earlier round: the transfer of a mixture a tuned method learned), never itself: no cycle
    mine = next(j for j, x in enumerate(studies) if x is s)
    sources = [x.get("name") for j, x in enumerate(studies) if j != mine and (j < mine or not _selects_raw(x))]
    for p in [None, *PROFILES]:
        check_select(here, (s if p is None else s.get(p, {})).get("select"), sources)
    for p in PROFILES:
        if p in s:
            if not isinstance(s[p], dict):
                raise BadInput(f"{here}: [{p}] must be a table of overrides")
            _no_unknown(f"{here} [{p}]", s[p], _STUDY_KEYS)
    base = {k: v for k, v in s.items() if k not in PROFILES}
    return StudySpec(s["name"], base, {p: s[p] for p in PROFILES if p in s}, f"suite {suite!r}, study {s['name']!r}")


def _selects_raw(s) -> bool:
    return isinstance(s, dict) and (bool(s.get("select")) or any(
        isinstance(s.get(p), dict) and s[p].get("select") for p in PROFILES))


def _report(where: str, d: dict) -> Report:
    report = d.get("report", {})
    metrics = report.get("metrics", []) if isinstance(report, dict) else None
    if not isinstance(report, dict) or set(report) - {"metrics", "margin", "effect", "keep"} or not (
            isinstance(metrics, list) and all(isinstance(m, str) for m in metrics)):
        raise BadInput(f"{where}: [report] takes 'metrics' (a list of column names for the summary table), "
                       "'margin' (an equivalence margin), 'effect' (the smallest effect of interest) and 'keep' "
                       "(the share of the target-size gain a transferred mixture must keep, claim LM-6)")
    for key in ("margin", "effect", "keep"):  # relative sizes, declared before the run
        v = report.get(key, 0.5 if key == "keep" else 0.01)
        if not (isinstance(v, float | int) and not isinstance(v, bool) and 0 < v < 1):
            raise BadInput(f"{where}: [report] {key!r} must be a relative size in (0, 1), got {v!r}")
    return Report(tuple(metrics), float(report.get("margin", 0.01)), float(report.get("effect", 0.01)), dict(report))


def _check_figures(where: str, spec) -> None:
    specs = [] if spec is None else spec if isinstance(spec, list) else [spec]
    for f in specs:
        if not isinstance(f, dict) or f.get("kind") not in FIGURE_KINDS:
            raise BadInput(f"{where}: 'figure' needs a kind, one of {', '.join(FIGURE_KINDS)}")
        for k in FIGURE_KINDS[f["kind"]].requires:
            if not isinstance(f.get(k), str):
                raise BadInput(f"{where}: a {f['kind']!r} figure needs '{k}' (a column name)")


def _no_unknown(where: str, d: dict, known: set) -> None:
    for k in d:
        if k not in known:
            raise BadInput(f"{where}: unknown key {k!r} (known: {', '.join(sorted(known))})")
