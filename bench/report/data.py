"""What the report reads: each suite's tidy table, its manifest and what is missing, plus the
derived columns and the interval over seeds that every figure and table uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import results
from ..evidence.stats import t_interval


@dataclass
class SuiteData:
    name: str
    manifest: dict
    table: pd.DataFrame
    missing: list[dict]
    run: dict = field(default_factory=dict)  # run.json: the commits its results were computed and designed at

    @property
    def studies(self) -> list[dict]:
        return self.manifest.get("studies", [])

    def study(self, name: str) -> pd.DataFrame:
        if not len(self.table):
            return self.table
        return self.table[self.table["study"] == name]


def load(out: Path) -> list[SuiteData]:
    """Every suite folder under ``out``; refreshes each tidy table from its cell files if present."""
    data = []
    for d in results.suite_dirs(out):
        table, missing = results.collect(d)
        if (d / "cells").is_dir():
            results.write_table(d, table, csv=(d / "results.csv").exists())
        data.append(SuiteData(d.name, results.read_manifest(d), add_derived(table), missing, results.read_run(d)))
    return data


def add_derived(df: pd.DataFrame) -> pd.DataFrame:
    """Gains in loss units: the method's F(uniform) - F(alpha) and the optimum's F(uniform) - F(alpha*)."""
    df = df.copy()
    if {"F", "F_uniform", "F_star"} <= set(df.columns):
        df["gain"] = df["F_uniform"] - df["F"]
        df["gain_opt"] = df["F_uniform"] - df["F_star"]
    return df


def mean_ci(values, level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and Student-t interval over seeds (NaNs dropped): (mean, low, high, n)."""
    return t_interval(values, level)


def domains_of(df: pd.DataFrame, prefix: str = "alpha.") -> list[str]:
    """Domain names of the mixture columns that have values in ``df`` (in column order)."""
    return [c[len(prefix):] for c in df.columns if c.startswith(prefix) and df[c].notna().any()]
