"""Reading an LM suite's tidy table: its final rows, the reported studies, per-seed values and paired
differences, and the loss a setting's claim compares."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from bench.results import final_rows

from .claims import claim_of

BASELINE = "uniform"
DECIDING = "lm"  # the profile whose rows decide the LM claims
DECIDING_PROFILES = (DECIDING, "scale")  # and the model-size ladder's, which decides them per size


def lm_final(table: pd.DataFrame) -> pd.DataFrame:
    fin = final_rows(table)
    return fin[fin["avg_loss"].notna()] if "avg_loss" in fin else fin.iloc[0:0]


def reported(fin: pd.DataFrame, suite: str) -> pd.DataFrame:
    """The rows of the reported studies (the suite's main study and its stage-unaware variant), not
    the tuning and grid studies of the deciding profile."""
    if "study" not in fin:
        return fin
    return fin[fin["study"].isin([suite, f"{suite}-unaware"])]


def _by_seed(fin: pd.DataFrame, column: str, method: str) -> pd.Series:
    """One method's ``column`` indexed by seed (NaN-free of missing columns: empty then)."""
    g = fin[fin["method"] == method].drop_duplicates("seed").set_index("seed")
    return g[column] if column in g else pd.Series(dtype=np.float64)


def paired(fin: pd.DataFrame, column: str, method: str, baseline: str = BASELINE) -> np.ndarray:
    """column(method) - column(baseline), seed by seed, over the seeds both have."""
    a, b = _by_seed(fin, column, method), _by_seed(fin, column, baseline)
    common = a.index.intersection(b.index).sort_values()
    return (a[common] - b[common]).to_numpy(dtype=np.float64)


def seed_values(fin: pd.DataFrame, column: str, method: str, seeds) -> np.ndarray:
    """One method's ``column`` at ``seeds`` (NaN where a seed or the column is missing)."""
    return _by_seed(fin, column, method).reindex(seeds).to_numpy(dtype=np.float64)


def target_of(table: pd.DataFrame) -> str | None:
    """The fine-tuning target of a multi-stage suite (its val_weights problem parameter)."""
    col = "problem.val_weights"
    if col in table and table[col].notna().any():
        v = table[col].dropna().iloc[0]
        return v if isinstance(v, str) else None
    return None


def loss_column(suite: str, table: pd.DataFrame, split: str = "test") -> str:
    """The loss a setting's claim compares: the target's after fine-tuning, or the average."""
    claim = claim_of(suite)
    target = target_of(table) if claim is not None and claim.column == "target" else None
    if split == "test":
        return f"loss.{target}" if target else "avg_loss"
    return f"val_loss.{target}" if target else "val_avg_loss"


@functools.lru_cache(maxsize=None)
def declared_extension(suite_name: str, study: str):
    """The bounds ``extend`` declares for ``study``'s grid in the named suite (None: not extended)."""
    from bench.selection import check
    from bench.suites import load, suite_paths

    if suite_name not in suite_paths():
        return None
    studies = load(suite_name).studies
    for s in studies:
        for entry in check(s.where, s.base.get("select"), [x.name for x in studies]):
            if entry["study"] == study and entry["extend"]:
                return tuple(entry["extend"])
    return None

