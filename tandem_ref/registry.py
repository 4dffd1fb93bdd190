"""Names to methods. Adding a method is one small file in ``tandem_ref/methods`` and one line here, or,
from another package, one ``register(name, "module:Class")`` call where that package is imported (the
exact optimum, "oracle", registers from ``theory``, which holds the solvers it needs).

Entries are "module:Class" strings, imported on first use, so listing needs no optional deps."""

from __future__ import annotations

import importlib

from .errors import unknown

METHODS: dict[str, str] = {
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
}


def register(name: str, target: str) -> None:
    """Add a method under ``name`` ("module:Class", imported on first use); a name is registered once."""
    if METHODS.get(name, target) != target:
        raise ValueError(f"method {name!r} is already registered as {METHODS[name]}")
    METHODS[name] = target


def method_class(name: str):
    if name not in METHODS:
        raise unknown("method", name, METHODS)
    module, cls = METHODS[name].split(":")
    return getattr(importlib.import_module(module), cls)


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
