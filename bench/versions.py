"""Versions of code that has no version number of its own: a hash of its source.

Cell keys carry them (bench.cells), so a change to theory's optima, scores or claims, or to the LM
stack a Stage-Two score depends on (bench.scoring), recomputes the cells it could change."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from pathlib import Path


@functools.lru_cache(maxsize=None)
def code_version(*modules: str) -> str:
    """Hash of the source of the named modules or packages (every .py file under a package): the
    version of code that has no version number of its own, such as theory's exact optima, scores
    and claims. Found without importing them."""
    h = hashlib.sha256()
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin:
            h.update(f"{name}:absent".encode())
            continue
        if spec.submodule_search_locations:
            roots = [Path(d) for d in spec.submodule_search_locations]
            files = sorted((p.relative_to(r).as_posix(), p) for r in roots for p in r.rglob("*.py"))
        else:
            files = [(Path(spec.origin).name, Path(spec.origin))]
        for rel, path in files:
            h.update(f"{name}/{rel}".encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]
