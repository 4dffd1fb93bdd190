"""Where a result came from: package, commit, library versions and device, stored with every cell.

Versions are read from package metadata, not by importing (importing torch costs a second and the
theory suites never use it). The device is the problem's own (``problem.device``) when it has one.
"""

from __future__ import annotations

import functools
import importlib.metadata
import platform
import subprocess
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


@functools.lru_cache(maxsize=1)
def git_commit() -> str:
    """HEAD of the checkout the package runs from, with '+dirty' when tracked files differ.

    The outputs a run itself rewrites (results/, the README's claims block) do not count: they are
    not code, and a reproduce into the committed results/ would otherwise always call itself dirty."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=_ROOT, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)results", ":(exclude)README.md"], cwd=_ROOT,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


@functools.lru_cache(maxsize=1)
def _static() -> dict:
    return {"package_version": _version("tandem-bench"), "git_commit": git_commit(),
            "torch_version": _version("torch"), "numpy_version": _version("numpy"),
            "python_version": platform.python_version(), "machine": platform.machine()}


def provenance(problem=None) -> dict:
    device = str(getattr(problem, "device", "cpu")) if problem is not None else "cpu"
    return {**_static(), "device": device}
