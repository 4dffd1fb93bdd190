"""LM claim verdicts from stored suite results (pure functions of the tidy table).

Every comparison is paired by seed (one seed: one initialisation and one batch stream for every
method) and decided by bench.evidence.stats: a superiority claim holds when the 95% interval of the
paired difference lies below 0, is contradicted when it lies above 0, and is otherwise inconclusive
with its minimum detectable effect (80% power) printed, beside the paper's effect; "uniform is not
beaten" (Prop. 1) is decided against an equivalence margin declared in the suite file
(``[report] margin``, relative to uniform's loss) before the run.

Claims (CLAIM_COLUMNS of bench.report.tables), one per LM setting:
  LM-1 lm-abundant    uniform is not beaten: for each method, "holds" when the one-sided 95%
                      lower bound of Delta = L(method) - L(uniform) is above -margin (no method
                      beats uniform by more than the margin; a method worse than uniform does not
                      contradict the claim), "contradicted" when the 95% upper bound is below
                      -margin; the row also says whether the two one-sided tests (TOST) certify
                      |Delta| < margin, and the best point of the fixed-mixture grid is one row
  LM-2 lm-restricted  TANDEM beats uniform and natural on the average test loss
  LM-3 lm-multistage  stage-aware TANDEM beats uniform and stage-unaware TANDEM on the target's
                      test loss after fine-tuning
  LM-4 lm-sft         TANDEM beats uniform on the average task test loss
  LM-5 restricted, SFT  TANDEM's mixture reaches uniform's final test loss in fewer Stage-Two
                      steps (and FLOPs, counting the mixer's own): ratio < 1 with its interval
Results of the ``quick`` profile are smoke runs: their rows say so, and a claim's digest line reads
the deciding (``lm``) rows when there are any.
"""

from __future__ import annotations

import math

import pandas as pd

from bench.tabulate import CLAIM_COLUMNS, commits

from . import stats
from .claims import LM5, LM5_SUITES, LM_CLAIMS, LMClaim, base_name, claim_of  # noqa: F401  (re-exported)
from .convergence import convergence, steps_to  # noqa: F401  (LM-5; re-exported)
from .reading import (  # noqa: F401  (re-exported)
    BASELINE,
    DECIDING,
    DECIDING_PROFILES,
    lm_final,
    loss_column,
    paired,
    reported,
    seed_values,
    target_of,
)

# --- the summary table ------------------------------------------------------------------------

def ci_text(values) -> str:
    return stats.fmt_interval(*stats.t_interval(values)[:3])


def _row(**fields) -> list[str]:
    return [str(fields.get(c, "")) for c in CLAIM_COLUMNS]


def _rel(p: stats.Paired, scale: float) -> str:
    return f"{100 * p.mean / scale:+.2f}%" if scale and math.isfinite(p.mean) else "–"


def _excludes(p: stats.Paired, scale: float, effect: float | None, whose: str) -> str:
    """'; excludes the paper's −10.0% (smaller effect)' where the relative interval [low, high] / scale
    lies wholly on one side of the effect of interest; '' otherwise (or where there is none)."""
    if effect is None or not scale or p.n < 2 or not (math.isfinite(p.low) and math.isfinite(p.high)):
        return ""
    low, high = p.low / scale, p.high / scale
    if low <= effect <= high:
        return ""
    # the effects are improvements (negative): an interval above the effect means a smaller one
    size = "smaller" if low > effect else "larger"
    return f"; excludes {whose} {stats.fmt(100 * effect, 1)}% ({size} effect)"


def _superiority_row(ident, text, setting, col, d, scale, paper, smoke, whose="the paper's",
                     against_uniform: bool = True) -> list[str]:
    p = stats.paired(d)
    verdict = stats.superiority(p)
    places = stats.decimals_for((p.high - p.low) / 2) if p.n > 1 else 3
    while places < 4 and p.n > 1 and any(b != 0 and round(b, places) == 0 for b in (p.low, p.high)):
        places += 1  # a bound that decides the verdict is never printed as 0
    measured = stats.fmt_interval(p.mean, p.low, p.high, places) + f" (n={p.n}, {_rel(p, scale)})"
    if verdict == "inconclusive" and p.n > 1 and not math.isfinite(p.mde):
        verdict += f" (MDE not determined at n={p.n})"
    elif verdict == "inconclusive" and p.n > 1:
        mde_rel = p.mde / scale if scale else math.nan
        cmp = ("" if paper is None else f" {'<' if mde_rel < abs(paper) else '≥'} {whose} {100 * abs(paper):.1f}%")
        verdict += f" (MDE {stats.fmt(p.mde, places + 1)} nats = {100 * mde_rel:.2f}%{cmp})"
    if against_uniform and verdict != "contradicted":  # the effect of interest is against uniform (and
        # an interval above 0 excludes any improvement: nothing to add)
        verdict += _excludes(p, scale, paper, whose)
    if smoke:
        verdict = f"smoke run: {verdict}"
    return _row(id=ident, claim=text, setting=setting, statistic=f"paired Δ {col}, 95% t interval",
                expected="< 0 (interval below 0)", measured=measured, verdict=verdict)


def _margin(manifest: dict) -> float:
    return float((manifest or {}).get("report", {}).get("margin", 0.01))


def effect_of_interest(suite: str, manifest: dict | None, claim: LMClaim | None = None) -> tuple[float | None, str]:
    """The effect an inconclusive row's MDE is held against: the paper's, or where the paper gives
    none the smallest effect of interest the suite file declares before the run (``[report] effect``)."""
    claim = claim or claim_of(suite)
    if claim is not None and claim.paper is not None:
        return claim.paper, "the paper's"
    declared = (manifest or {}).get("report", {}).get("effect")
    return (None, "") if declared is None else (-float(declared), "the declared")


def claim_rows(name: str, table: pd.DataFrame, target: str | None = None,
               manifest: dict | None = None, claim: LMClaim | None = None, label: str | None = None) -> list[list[str]]:
    """The verdict rows of one LM suite (see the module docstring). ``claim`` decides another suite's
    claim on this one's reported study (a size of the scale ladder, bench.evidence.ladder), whose rows
    name their setting ``label``."""
    suite, claim = base_name(name), claim or claim_of(name)
    if claim is None:
        return []
    fin = reported(lm_final(table), suite)
    if not len(fin):
        return []
    profile = (manifest or {}).get("profile") or (str(table["profile"].iloc[0]) if "profile" in table else "quick")
    smoke = profile not in DECIDING_PROFILES
    tag = f" ({profile} profile)" if smoke else ""
    where = label or suite
    ident, text, subject, comparators = claim.id, claim.text, claim.subject, claim.comparators
    if target is None:
        col = loss_column(suite, table)
    else:
        col = f"loss.{target}" if claim.column == "target" else "avg_loss"
    scale = float(fin.loc[fin["method"] == BASELINE, col].mean()) if (fin["method"] == BASELINE).any() else math.nan
    rows = []
    if subject is None:  # abundant: every method against uniform, equivalence margin
        margin = _margin(manifest) * scale
        for method in [m for m in fin["method"].unique() if m != BASELINE]:
            d = paired(fin, col, method)
            p = stats.paired(d)
            if p.n < 2:
                continue
            lower_one_sided = stats.t_interval(d, level=0.90)[1]  # the one-sided 95% lower bound
            equivalent, _, certified = stats.tost(d, margin)
            places = stats.decimals_for((p.high - p.low) / 2)
            if p.high < -margin:
                verdict = "contradicted"
            elif lower_one_sided > -margin:
                verdict = "holds"
            else:
                verdict = f"inconclusive (certifies a margin of {stats.fmt(certified, places + 1)} only)"
            if smoke:
                verdict = f"smoke run: {verdict}"
            rows.append(_row(id=ident, claim=text, setting=f"{where}{tag}: {method}",
                             statistic=f"paired Δ {col}; margin ±{stats.fmt(margin, places + 1)} "
                                       f"({100 * _margin(manifest):g}% of uniform)",
                             expected="one-sided 95% lower bound > −margin",
                             measured=stats.fmt_interval(p.mean, p.low, p.high, places)
                             + f" (n={p.n}, {_rel(p, scale)}; TOST {'equivalent' if equivalent else 'not equivalent'})",
                             verdict=verdict))
        return rows
    effect, whose = effect_of_interest(suite, manifest, claim)
    for base in comparators:
        d = paired(fin, col, subject, base)
        if len(d) < 1:
            continue
        rows.append(_superiority_row(ident, text, f"{where}{tag}: {subject} vs {base}", col, d, scale,
                                     effect, smoke, whose, against_uniform=base == BASELINE))
    if suite in LM5_SUITES:
        r = convergence(fin, subject)
        if r is not None:
            steps, flops = r
            verdict = ("holds" if steps[2] < 1 else "contradicted" if steps[1] > 1 else "inconclusive")
            if verdict == "inconclusive":  # what it could have detected (normal approximation)
                m = stats.mde_of_interval(steps[1], steps[2])
                verdict += f" (MDE {stats.fmt(m, 2)} in the ratio: {stats.fmt(1 - m, 2)} or faster detectable)"
            if smoke:
                verdict = f"smoke run: {verdict}"
            rows.append(_row(id=LM5[0], claim=LM5[1], setting=f"{suite}{tag}: {subject} vs uniform",
                             statistic="Stage-Two steps to uniform's final test loss, ratio to uniform's (bootstrap)",
                             expected="< 1 (interval below 1)",
                             measured=f"{stats.fmt_interval(*steps[:3], 2)} (n={steps[3]}); FLOPs with the mixer's "
                                      f"{stats.fmt_interval(*flops[:3], 2)}", verdict=verdict))
    return rows


def first_design_table(sd) -> tuple[pd.DataFrame, dict, dict] | None:
    """Where a claim's design changed after its results were seen (``LMClaim.first_design``): the
    stored deciding results cut to the first design (the reported study's first N seeds), its design,
    and the manifest as then declared (without the [report] keys it had not declared yet)."""
    claim = claim_of(sd.name)
    first = None if claim is None else claim.first_design
    if not first or (sd.manifest or {}).get("profile") != DECIDING or not len(sd.table):
        return None
    suite = base_name(sd.name)
    seeds = sorted(set(reported(lm_final(sd.table), suite)["seed"]))[: int(first["seeds"])]
    keep = sd.table["seed"].isin(seeds)
    if "study" in sd.table:
        keep |= sd.table["study"] != suite
    report = {k: v for k, v in (sd.manifest.get("report") or {}).items() if k not in first.get("undeclared", ())}
    return sd.table[keep], first, {**sd.manifest, "report": report}


def claims(data) -> list[list[str]]:
    """The verdict rows of every LM suite among ``data`` (deciding profile first), each with the commits
    its design was declared and its results computed at; where the design changed after results were
    seen, also the rows at the first declared design."""
    rows = []
    for sd in sorted(data, key=lambda sd: sd.manifest.get("profile") != DECIDING):
        at = commits(sd.run)
        first = first_design_table(sd)
        declared = at["declared at"]
        if first is not None:
            declared += f" (changed after results were seen; first design {str(first[1].get('declared', '–'))[:7]})"
        rows += [r[:-2] + [declared, at["computed at"]] for r in claim_rows(sd.name, sd.table, None, sd.manifest)]
        if first is not None:
            table, design, manifest = first
            for r in claim_rows(sd.name, table, None, manifest):
                r[2] += f" (first design: {design['seeds']} seeds)"
                rows.append(r[:-2] + [str(design.get("declared", "–"))[:7], at["computed at"]])
    return rows


# --- the deciding profile's tables: regime, tuning, empirical optimum, the paper side by side ---
