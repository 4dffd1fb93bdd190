"""Tables as Markdown and LaTeX: a summary per suite and the claims table.

A table is a header and rows of strings; ``markdown`` and ``latex`` render the same table, so the
two never disagree. Numbers print to 4 significant figures; an interval over seeds prints as
``mean [low, high]``.
"""

from __future__ import annotations

import json
import math
import re

import pandas as pd

from ..cells import method_kinds
from ..results import final_rows
from ..tabulate import commits
from .data import SuiteData, mean_ci

SUMMARY_METRICS = [("l1", "ℓ1 to α*"), ("regret", "regret"), ("gain_captured", "gain captured"),
                   ("cost.grad_steps", "grad steps"), ("wall_s", "seconds")]


def num(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (int, float)):
        return f"{x:.4g}"
    return str(x)


def _value(x):
    """A verdict value as stored: numbers and booleans that share a column with text are JSON text."""
    if isinstance(x, str):
        try:
            v = json.loads(x)
        except ValueError:
            return x
        return v if isinstance(v, (int, float, bool)) else x
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def interval(mean, lo, hi, n) -> str:
    if n == 0:
        return "–"
    if n == 1 or math.isnan(lo):
        return num(mean)
    return f"{num(mean)} [{num(lo)}, {num(hi)}]"


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
        "α": r"$\alpha$", "ℓ": r"$\ell$", "γ": r"$\gamma$", "κ": r"$\kappa$", "λ": r"$\lambda$",
        "–": "--", "−": "-", "≤": r"$\le$", "≥": r"$\ge$", "∞": r"$\infty$", "‖": r"$\|$", "·": r"$\cdot$"}


def _tex(s: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in str(s))


def latex(header: list[str], rows: list[list[str]]) -> str:
    lines = [r"\begin{tabular}{" + "l" * len(header) + "}", r"\hline",
             " & ".join(map(_tex, header)) + r" \\", r"\hline"]
    lines += [" & ".join(map(_tex, r)) + r" \\" for r in rows]
    lines += [r"\hline", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def _grid_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith("grid.") and df[c].nunique(dropna=True) > 1]


def suite_summary(sd: SuiteData) -> tuple[list[str], list[list[str]]]:
    """One line per (study, problem, method, grid point): each score's mean and interval over seeds."""
    fin = final_rows(sd.table)
    fin = fin[fin["kind"].isin(method_kinds())] if len(fin) else fin
    if not len(fin):
        return [], []
    grid = _grid_columns(fin)
    # a suite may name its own score columns ([report] metrics = [...]); cost and time always follow
    chosen = sd.manifest.get("report", {}).get("metrics")
    wanted = SUMMARY_METRICS if chosen is None else [(c, c) for c in chosen] + SUMMARY_METRICS[-2:]
    metrics = [(c, name) for c, name in wanted if c in fin and fin[c].notna().any()]
    header = ["study", "problem", "method"] + [g[5:] for g in grid] + ["seeds"] + [n for _, n in metrics]
    rows = []
    keys = ["study", "problem", "method"] + grid
    for k, g in fin.groupby(keys, sort=False, dropna=False):
        k = k if isinstance(k, tuple) else (k,)
        rows.append([num(v) for v in k] + [str(g["seed"].nunique())]
                    + [interval(*mean_ci(g[c])) for c, _ in metrics])
    return header, rows


def claims_rows(data: list[SuiteData]) -> list[list[str]]:
    """The claims table: every verdict row any suite stored (claim cells), in suite order."""
    rows = []
    for sd in data:
        t = sd.table
        if not len(t) or "claim" not in t:
            continue
        at = commits(sd.run)
        for _, r in t[~t["kind"].isin(method_kinds())].iterrows():
            if r["status"] != "ok":
                rows.append(["", str(r["claim_name"]), "", "", "", "", f"not computed: {r['reason']}",
                             at["declared at"], at["computed at"]])
                continue
            measured, lo, hi = (_value(r.get(k)) for k in ("measured", "ci_low", "ci_high"))
            text = num(measured)
            if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo != hi and not (
                    math.isnan(lo) or math.isnan(hi)):
                text += f" [{num(lo)}, {num(hi)}]"  # one measurement (no seeds to vary) has no interval
            holds = r.get("holds")
            verdict = "–" if holds is None or pd.isna(holds) else ("holds" if bool(holds) else "contradicted")
            ident = r.get("id")
            rows.append(["" if ident is None or pd.isna(ident) else str(ident), str(r["claim"]), str(r["setting"]),
                         str(r["statistic"]), num(_value(r["expected"])), text, verdict, at["declared at"],
                         at["computed at"]])
    return rows


DIGEST_COLUMNS = ["id", "claim", "rows", "verdict"]


def claims_digest(claims: list[list[str]]) -> list[list[str]]:
    """One line per claim id (the README's claims table): the claim, how many verdict rows it has, and
    its verdict — "holds" when every row holds, else which rows are contradicted or inconclusive."""
    groups: dict[str, list[list[str]]] = {}
    for r in claims:
        groups.setdefault(r[0] or r[1], []).append(r)
    for ident, rows in groups.items():  # a smoke run (quick-profile LM rows) never outvotes a deciding run
        deciding = [r for r in rows if not r[6].startswith("smoke run")]
        if deciding:
            groups[ident] = deciding
    out = []
    for ident, rows in groups.items():
        claim = rows[0][1]
        if claim.startswith(ident + " "):
            claim = claim[len(ident) + 1:]
        verdicts = [r[6].split(" (")[0] for r in rows]  # the verdict word, without its MDE note
        bad = {v: sum(x == v for x in verdicts) for v in dict.fromkeys(verdicts) if v != "holds"}
        if not bad:
            verdict = "holds"
        else:
            parts = []
            for v, k in bad.items():
                settings = "; ".join(r[2] for r in rows if r[6].split(" (")[0] == v)
                parts.append(f"{v} in {k} of {len(rows)} ({settings})")
            verdict = ", ".join(parts)
        out.append([ident, claim, str(len(rows)), verdict])
    return sorted(out, key=lambda r: _id_key(r[0]))


def _id_key(ident: str):
    """Catalogue order: T0.1 < T1.4 < T1.4b < T1.10, then LM-1 < LM-2 (numbers compared as numbers)."""
    parts = re.findall(r"\d+|\D+", ident)
    return [not ident.startswith("T")] + [(0, int(p)) if p.isdigit() else (1, p) for p in parts]
