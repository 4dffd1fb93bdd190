"""Suites: TOML files in this folder, each a grid of problems x methods x parameters x seeds.

The format is documented in README.md next to this file. ``load(name)`` reads and checks a suite
file (its schema: ``schema.py``); ``expand(suite, profile)`` turns it into cells (``grid.py``).
Every error names the file and the key (or the line, for TOML syntax) and is a BadInput, so the
command line exits 2 before writing anything.
"""

from __future__ import annotations

from pathlib import Path

from tandem_ref.errors import BadInput, unknown

from .grid import check_profile, expand
from .schema import FIGURE_KINDS, PROFILES, Report, Study, StudySpec, Suite, read

__all__ = ["FIGURE_KINDS", "PROFILES", "Report", "Study", "StudySpec", "Suite", "check_profile", "expand", "folder",
           "folder_name", "load", "suite_names", "suite_of_folder", "suite_paths"]

SUITE_DIR = Path(__file__).resolve().parent


def suite_paths() -> dict[str, Path]:
    return {p.stem: p for p in sorted(SUITE_DIR.glob("*.toml"))}


def suite_names() -> list[str]:
    return list(suite_paths())


def folder_name(suite: str, profile: str) -> str:
    """A suite's results folder under --out: its name for the quick profile, NAME@PROFILE for the
    others, so one results folder holds a smoke run and a deciding run of the same suite side by side.
    The one place the name is built (``suite_of_folder`` reads it back)."""
    return suite if profile == "quick" else f"{suite}@{profile}"


def suite_of_folder(name: str) -> str:
    """A results folder's suite: ``lm-restricted@lm`` -> ``lm-restricted``."""
    return name.split("@", 1)[0]


def folder(suite: Suite, profile: str) -> str:
    return folder_name(suite.name, profile)


def load(name_or_path: str) -> Suite:
    """A suite by name (a file in this folder) or by path to a .toml file."""
    paths = suite_paths()
    if name_or_path in paths:
        return read(paths[name_or_path])
    if name_or_path.endswith(".toml"):
        path = Path(name_or_path)
        if not path.is_file():
            raise BadInput(f"suite file {name_or_path}: not found")
        return read(path)
    raise unknown("suite", name_or_path, paths)
