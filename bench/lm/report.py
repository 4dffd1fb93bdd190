"""LM tables and claim verdicts from stored suite results (pure functions of the tidy table).

Tables in the style of the paper's Tables 3-5: per method, each domain's (or task's) Stage-Two test
perplexity, the average perplexity (and accuracy) with a 95% interval over seeds, and the paired
difference of the average test loss from uniform (same seed: same initialisation and batches), the
comparison DESIGN.md asks for because the seed-to-seed spread is as large as the effects.

Claim verdicts (CLAIM_COLUMNS of bench.report.tables), one per LM setting:
  lm-abundant    uniform is not beaten: no method's paired Delta avg loss has its interval below 0
  lm-restricted  TANDEM beats uniform and natural: its paired Delta interval lies below 0
  lm-multistage  stage-aware TANDEM beats uniform and stage-unaware TANDEM (its L_val the mixture's
                 domains) on the target's test loss after fine-tuning (paired Delta < 0)
  lm-sft         TANDEM beats uniform on the average task test loss (paired Delta < 0)
A claim is "holds", "contradicted" (interval on the wrong side) or "inconclusive" (interval
across 0), never tuned.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.report.data import final_rows, mean_ci
from bench.report.tables import CLAIM_COLUMNS, interval, num

BASELINE = "uniform"


def _lm_final(table: pd.DataFrame) -> pd.DataFrame:
    fin = final_rows(table)
    return fin[fin["avg_loss"].notna()] if "avg_loss" in fin else fin.iloc[0:0]


def paired(fin: pd.DataFrame, column: str, method: str, baseline: str = BASELINE) -> np.ndarray:
    """column(method) - column(baseline), seed by seed, over the seeds both have."""
    a = fin[fin["method"] == method].set_index("seed")[column]
    b = fin[fin["method"] == baseline].set_index("seed")[column]
    common = a.index.intersection(b.index)
    return (a[common] - b[common]).to_numpy(dtype=np.float64)


def perplexity_table(table: pd.DataFrame, target: str | None = None) -> tuple[list[str], list[list[str]]]:
    """One row per (problem, method): per-domain ppl means, average ppl [CI], accuracy [CI] where
    the tasks are supervised, paired Delta average loss vs uniform [CI], mixer FLOPs, seconds."""
    fin = _lm_final(table)
    if not len(fin):
        return [], []
    domains = [c[4:] for c in fin.columns if c.startswith("ppl.") and fin[c].notna().any()]
    loss_col = f"loss.{target}" if target else "avg_loss"
    acc = "avg_acc" in fin and fin["avg_acc"].notna().any()
    header = (["problem", "method", "seeds"] + [f"ppl {d}" for d in domains] + ["avg ppl"]
              + (["avg acc"] if acc else []) + [f"Δ {'target' if target else 'avg'} loss vs {BASELINE} (paired)",
                                                "mixer TFLOPs", "seconds"])
    rows = []
    for (problem, method), g in fin.groupby(["problem", "method"], sort=False):
        row = [problem, method, str(g["seed"].nunique())]
        row += [num(g[f"ppl.{d}"].mean()) for d in domains]
        row.append(interval(*mean_ci(g["avg_ppl"])))
        if acc:
            row.append(interval(*mean_ci(g["avg_acc"])))
        sub = fin[fin["problem"] == problem]
        if not (sub["method"] == BASELINE).any():  # a variant problem of the suite: pair by seed with its uniform
            sub = pd.concat([sub, fin[fin["method"] == BASELINE].drop_duplicates("seed")])
        row.append("–" if method == BASELINE else interval(*mean_ci(paired(sub, loss_col, method))))
        row.append(num(g["cost.flops"].mean() / 1e12) if "cost.flops" in g else "–")
        row.append(num(g["wall_s"].mean()) if "wall_s" in g else "–")
        rows.append(row)
    return header, rows


_CLAIMS = {  # suite -> (id, claim, compared column, (method, baselines beyond uniform...) or None: all vs uniform)
    "lm-abundant": ("LM-1", "uniform is not beaten with abundant data (Prop. 1)", "avg_loss", None),
    "lm-restricted": ("LM-2", "TANDEM beats uniform and natural with restricted data", "avg_loss",
                      ("tandem", "natural")),
    "lm-multistage": ("LM-3", "stage-aware TANDEM beats uniform and stage-unaware TANDEM on the fine-tuned target",
                      "target", ("tandem", "tandem-unaware")),
    "lm-sft": ("LM-4", "TANDEM beats uniform on the average task loss", "avg_loss", ("tandem",)),
}


def _row(**fields) -> list[str]:
    return [str(fields.get(c, "")) for c in CLAIM_COLUMNS]


def claim_rows(name: str, table: pd.DataFrame, target: str | None = None) -> list[list[str]]:
    """The verdict rows of one LM suite (see the module docstring)."""
    if name not in _CLAIMS:
        return []
    fin = _lm_final(table)
    if not len(fin):
        return []
    ident, text, col, subjects = _CLAIMS[name]
    col = f"loss.{target}" if col == "target" and target else "avg_loss" if col == "target" else col
    rows = []
    if subjects is None:  # abundant: every method against uniform
        for method in [m for m in fin["method"].unique() if m != BASELINE]:
            mean, lo, hi, n = mean_ci(paired(fin, col, method))
            verdict = "contradicted" if hi < 0 else "holds" if n > 1 else "inconclusive"
            rows.append(_row(id=ident, claim=text, setting=f"{name}: {method}", statistic=f"paired Δ {col} vs uniform",
                             expected="≥ 0 (interval not below 0)", measured=interval(mean, lo, hi, n),
                             verdict=verdict))
        return rows
    method = subjects[0]
    for base in (BASELINE,) + tuple(subjects[1:]):
        mean, lo, hi, n = mean_ci(paired(fin, col, method, base))
        verdict = "holds" if hi < 0 else "contradicted" if lo > 0 else "inconclusive"
        rows.append(_row(id=ident, claim=text, setting=f"{name}: {method} vs {base}", statistic=f"paired Δ {col}",
                         expected="< 0 (interval below 0)", measured=interval(mean, lo, hi, n), verdict=verdict))
    return rows


def target_of(table: pd.DataFrame) -> str | None:
    """The fine-tuning target of a multi-stage suite (its val_weights problem parameter)."""
    col = "problem.val_weights"
    if col in table and table[col].notna().any():
        v = table[col].dropna().iloc[0]
        return v if isinstance(v, str) else None
    return None


def summary(sd):
    """The summary table of an LM suite (SuiteData of bench.report.data), or None for other suites."""
    header, rows = perplexity_table(sd.table, target_of(sd.table))
    return (header, rows) if rows else None


def claims(data) -> list[list[str]]:
    """The verdict rows of every LM suite among ``data``."""
    return [r for sd in data for r in claim_rows(sd.name, sd.table, target_of(sd.table))]
