"""Problems by name. Every factory is ``(seed, **params) -> Problem``, imported on first use.

Adding a problem is one line in ``PROBLEMS`` ("module:function"). The controlled families of
``theory.families`` are problems too, under their family names; they are looked up lazily so the
harness still lists and runs the library's own quadratic while ``theory`` is absent.
"""

from __future__ import annotations

import importlib
import inspect

from tandem_ref.errors import BadInput, unknown

PROBLEMS: dict[str, str] = {
    # The library's own Family A test bed; theory's "quadratic" family replaces it when present.
    "quadratic": "bench.problems:reference_quadratic",
    # the small LM (bench/lm): text domains of the embedded corpus, and the supervised tasks
    "lm": "bench.lm.problem:lm_problem",
    "lm-sft": "bench.lm.sft:sft_problem",
}


def reference_quadratic(seed: int, **params):
    """Family A from tandem_ref (QuadraticProblem.random): m, d, aniso, pert, ridge, beta, noise, sizes."""
    from tandem_ref.quadratic import QuadraticProblem

    return QuadraticProblem.random(seed=seed, **params)


def _families() -> dict[str, str]:
    try:
        mod = importlib.import_module("theory.families")
    except ModuleNotFoundError as e:
        if e.name and e.name.startswith("theory"):
            return {}
        raise
    return dict(getattr(mod, "FAMILIES", {}))  # {} while theory.families is still being written


def problem_names() -> dict[str, str]:
    """name -> one-line description, theory families first."""
    out = {name: desc for name, desc in _families().items()}
    for name, entry in PROBLEMS.items():
        out.setdefault(name, _doc_line(entry))
    return out


def family_names() -> list[str]:
    return list(_families())


def _doc_line(entry: str) -> str:
    module = entry.split(":")[0]
    try:
        fn = _resolve(entry)
    except ModuleNotFoundError:
        return f"(module {module} not installed)"
    return (inspect.getdoc(fn) or "").split("\n")[0]


def _resolve(entry: str):
    module, fn = entry.split(":")
    return getattr(importlib.import_module(module), fn)


def make_problem(name: str, seed: int, params: dict):
    """Build problem ``name`` for ``seed``; an unknown name or parameter raises BadInput naming it."""
    families = _families()
    if name in families:
        from theory.families import make

        factory = lambda seed, **kw: make(name, seed, **kw)  # noqa: E731
    elif name in PROBLEMS:
        factory = _resolve(PROBLEMS[name])
    else:
        raise unknown("problem", name, {**families, **PROBLEMS})
    try:
        return factory(seed, **params)
    except TypeError as e:
        # a factory called with a keyword it does not take: name the parameter, not the traceback
        raise BadInput(f"problem {name!r}: {e}") from None


def print_listing(what: str) -> None:
    """The 'problems:' section of ``tandem-bench list``: the controlled families, then the LM problems."""
    if what not in ("all", "problems"):
        return
    fams = _families()
    print("problems:")
    for name, desc in fams.items():
        print(f"  {name:18s} {desc}")
    for name, target in PROBLEMS.items():
        if name in fams:
            continue
        module, fn = target.split(":")
        doc = (getattr(importlib.import_module(module), fn).__doc__ or "").strip().splitlines()
        print(f"  {name:18s} {doc[0] if doc else ''}")
