"""Problems by name. Every factory is ``(seed, **params) -> Problem``, imported on first use.

The controlled families of ``theory.families`` are problems under their family names (``FAMILIES``);
the small LM's are in ``PROBLEMS``. Adding a problem is one line in ``PROBLEMS`` ("module:function").
"""

from __future__ import annotations

import inspect

from tandem_ref.errors import BadInput, unknown
from tandem_ref.names import Registry
from theory.families import FAMILIES, descriptions
from theory.families import make as make_family

PROBLEMS = Registry("problem", {
    # the small LM (bench/lm): text domains of the embedded corpus, and the supervised tasks
    "lm": "bench.lm.build:lm_problem",
    "lm-sft": "bench.lm.sft:sft_problem",
})


def problem_names() -> dict[str, str]:
    """name -> one-line description, theory families first."""
    return {**descriptions(), **{name: _doc_line(name) for name in PROBLEMS}}


def family_names() -> list[str]:
    return list(FAMILIES)


def _doc_line(name: str) -> str:
    return (inspect.getdoc(PROBLEMS.load(name)) or "").split("\n")[0]


def make_problem(name: str, seed: int, params: dict):
    """Build problem ``name`` for ``seed``; an unknown name or parameter raises BadInput naming it."""
    if name in FAMILIES:
        factory = lambda seed, **kw: make_family(name, seed, **kw)  # noqa: E731
    elif name in PROBLEMS:
        factory = PROBLEMS.load(name)
    else:
        raise unknown("problem", name, {**FAMILIES, **PROBLEMS})
    try:
        return factory(seed, **params)
    except TypeError as e:
        # a factory called with a keyword it does not take: name the parameter, not the traceback
        raise BadInput(f"problem {name!r}: {e}") from None


def print_listing(what: str) -> None:
    """The 'problems:' section of ``tandem-bench list``: the controlled families, then the LM problems."""
    if what not in ("all", "problems"):
        return
    print("problems:")
    for name, desc in problem_names().items():
        print(f"  {name:18s} {desc}")
