"""The one registry mechanism of the project: names to the things of one kind.

Methods, reference schedules, updates (here), problems, scorers and listings (bench), families and
claims (theory) are each a ``Registry``: a dict from a name to the thing itself or to a
``"module:attr"`` string imported on first use (so a listing imports no optional dependency). An
unknown name is a one-line error naming the known ones; a name is registered once.
"""

from __future__ import annotations

import importlib

from .errors import unknown


def resolve(target):
    """``target`` itself, or for a ``"module:attr"`` string the attribute, imported now (the lazy entries
    of every registry: methods, scorers, figure kinds...)."""
    if isinstance(target, str):
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)
    return target


class Registry(dict):
    def __init__(self, kind: str, entries=()):
        super().__init__(entries)
        self.kind = kind

    def register(self, name: str, target) -> None:
        """Add ``target`` under ``name``; registering a name again with another target is an error."""
        if self.get(name, target) != target:
            raise ValueError(f"{self.kind} {name!r} is already registered as {self[name]}")
        self[name] = target

    def load(self, name: str):
        """The thing registered under ``name`` (a "module:attr" entry imported now)."""
        if name not in self:
            raise unknown(self.kind, name, self)
        return resolve(self[name])

