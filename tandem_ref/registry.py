"""Names to methods. Adding a method is one small file in ``tandem_ref/methods`` and one line here, or,
from another package, one ``register(name, "module:Class")`` call where that package is imported (the
exact optimum, "oracle", registers from ``theory``, which holds the solvers it needs).

Entries are "module:Class" strings, imported on first use, so listing needs no optional deps
(``tandem_ref.names.Registry``, the mechanism every registry of the project uses)."""

from __future__ import annotations

from .names import Registry

METHODS = Registry("method", {
    "uniform": "tandem_ref.methods.uniform:Uniform",
    "natural": "tandem_ref.methods.natural:Natural",
    "doremi": "tandem_ref.methods.doremi:DoReMi",
    "doge": "tandem_ref.methods.doge:DoGE",
    "tandem": "tandem_ref.methods.tandem:Tandem",
    "odm": "tandem_ref.methods.odm:ODM",
    "aioli": "tandem_ref.methods.aioli:Aioli",
    "skill-it": "tandem_ref.methods.skill_it:SkillIt",
    "regmix": "tandem_ref.methods.regmix:RegMix",
    "mixing-laws": "tandem_ref.methods.mixing_laws:MixingLaws",
    "random-search": "tandem_ref.methods.random_search:RandomSearch",
    "fixed": "tandem_ref.methods.fixed:Fixed",
})


def register(name: str, target: str) -> None:
    """Add a method under ``name`` ("module:Class", imported on first use); a name is registered once."""
    METHODS.register(name, target)


def method_class(name: str):
    return METHODS.load(name)


def get_method(name: str, **params):
    """The method ``name`` with its parameters (unknown parameters raise BadInput naming them)."""
    return method_class(name)(**params)


# methods that need a parameter to mean anything (a given mixture): not in a suite's "*"
NEEDS_PARAMS = {"fixed"}


def method_names() -> list[str]:
    return list(METHODS)


def default_method_names() -> list[str]:
    """The methods that run with their defaults: what a suite's methods = "*" stands for."""
    return [n for n in METHODS if n not in NEEDS_PARAMS]
