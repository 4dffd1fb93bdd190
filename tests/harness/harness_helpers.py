"""Helpers of the harness tests: a small suite written to a temporary folder, and the CLI
run as a subprocess (exit code, stderr) the way a user runs it."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd

from bench.results import TIMING_COLUMNS

ROOT = Path(__file__).resolve().parents[2]

SMALL_SUITE = """
description = "a small suite for the harness tests"
profiles = ["quick", "full"]

[problems.A-nr]
problem = "quadratic"
pert = 1.5
aniso = 5.0

[methods.tandem-K2]
method = "tandem"
probe = 2

[[study]]
name = "grid"
title = "methods on two problems"
problems = ["A-nr", "quadratic"]
methods = ["uniform", "doremi", "tandem-K2"]
seeds = 2
budget = {budget}
log_points = 6
figure = [{{kind = "mixtures"}}, {{kind = "trajectories"}}]
[study.full]
seeds = 3

[[study]]
name = "gamma"
title = "error against gamma"
problems = ["A-nr"]
methods = ["tandem"]
seeds = 2
budget = {budget}
log_points = 3
figure = {{kind = "curve", x = "method.gamma", y = "l1", logx = true, logy = true, slope = -1.0}}
[study.params]
"method.gamma" = [1.0, 10.0]
"""


def write_suite(folder: Path, name: str = "small", budget: int = 60, text: str | None = None) -> Path:
    path = Path(folder) / f"{name}.toml"
    path.write_text(textwrap.dedent(SMALL_SUITE.format(budget=budget) if text is None else text))
    return path


def cli(*args, cwd=None, timeout=120, env=None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "bench.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


def comparable(df: pd.DataFrame) -> pd.DataFrame:
    """The tidy table without the wall-clock columns, in a fixed row order."""
    df = df.drop(columns=[c for c in TIMING_COLUMNS if c in df.columns])
    return df.sort_values(["key", "final", "update"], na_position="first").reset_index(drop=True)
