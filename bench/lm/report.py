"""LM tables and claim verdicts from stored suite results (pure functions of the tidy table).

Every comparison is paired by seed (one seed: one initialisation and one batch stream for every
method) and decided by bench.lm.stats: a superiority claim holds when the 95% interval of the
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

import numpy as np
import pandas as pd

from bench.report.data import final_rows
from bench.report.tables import CLAIM_COLUMNS

from . import stats

BASELINE = "uniform"
DECIDING = "lm"  # the profile whose rows decide the LM claims
# The paper's effects, as relative changes of the average test loss in nats (tokenizer-free):
# Table 3 restricted, TANDEM 28.07 vs uniform 31.53 perplexity; Table 5 SFT test loss 0.208 vs 0.231
# (research/tandem_paper.md section 5). The paper gives no number for the multi-stage setting.
PAPER = {"lm-restricted": math.log(28.07) / math.log(31.53) - 1, "lm-sft": 0.208 / 0.231 - 1}
PAPER_TEXT = {"lm-restricted": "Table 3: ppl 28.07 vs 31.53", "lm-sft": "Table 5: test loss 0.208 vs 0.231",
              "lm-abundant": "Table 3 (upper): TANDEM on par with uniform",
              "lm-multistage": "no number reported"}

_CLAIMS = {  # base suite name -> (id, claim text, column kind, subject, comparators)
    "lm-abundant": ("LM-1", "uniform is not beaten with abundant data (Prop. 1)", "avg", None, ()),
    "lm-restricted": ("LM-2", "TANDEM beats uniform and natural with restricted data", "avg", "tandem",
                      ("uniform", "natural")),
    "lm-multistage": ("LM-3", "stage-aware TANDEM beats uniform and stage-unaware TANDEM on the fine-tuned target",
                      "target", "tandem", ("uniform", "tandem-unaware")),
    "lm-sft": ("LM-4", "TANDEM beats uniform on the average task loss", "avg", "tandem", ("uniform",)),
}
LM5 = ("LM-5", "TANDEM's mixture reaches uniform's final test loss in fewer steps")
LM5_SUITES = ("lm-restricted", "lm-sft")


# --- reading ----------------------------------------------------------------------------------

def base_name(name: str) -> str:
    return name.split("@", 1)[0]


def _lm_final(table: pd.DataFrame) -> pd.DataFrame:
    fin = final_rows(table)
    return fin[fin["avg_loss"].notna()] if "avg_loss" in fin else fin.iloc[0:0]


def _reported(fin: pd.DataFrame, suite: str) -> pd.DataFrame:
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


def _values(fin: pd.DataFrame, column: str, method: str, seeds) -> np.ndarray:
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
    target = target_of(table) if _CLAIMS.get(suite, ("", "", "avg"))[2] == "target" else None
    if split == "test":
        return f"loss.{target}" if target else "avg_loss"
    return f"val_loss.{target}" if target else "val_avg_loss"


# --- the summary table ------------------------------------------------------------------------

def _ci(values) -> str:
    return stats.fmt_interval(*stats.t_interval(values)[:3])


def perplexity_table(table: pd.DataFrame, target: str | None = None,
                     suite: str = "") -> tuple[list[str], list[list[str]]]:
    """One row per (problem, method) of the reported studies: per-domain ppl means, average ppl
    [CI], accuracy [CI] where the tasks are supervised, paired Delta loss vs uniform [CI], mixer
    FLOPs, seconds."""
    fin = _reported(_lm_final(table), suite) if suite else _lm_final(table)
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
        row += [f"{g[f'ppl.{d}'].mean():.2f}" for d in domains]
        row.append(_ci(g["avg_ppl"]))
        if acc:
            row.append(_ci(g["avg_acc"]))
        sub = fin[fin["problem"] == problem]
        if not (sub["method"] == BASELINE).any():  # a variant problem of the suite: pair by seed with its uniform
            sub = pd.concat([sub, fin[fin["method"] == BASELINE].drop_duplicates("seed")])
        row.append("–" if method == BASELINE else _ci(paired(sub, loss_col, method)))
        row.append(f"{g['cost.flops'].mean() / 1e12:.3g}" if "cost.flops" in g else "–")
        row.append(f"{g['wall_s'].mean():.0f}" if "wall_s" in g else "–")
        rows.append(row)
    return header, rows


# --- verdicts ---------------------------------------------------------------------------------

def _row(**fields) -> list[str]:
    return [str(fields.get(c, "")) for c in CLAIM_COLUMNS]


def _rel(p: stats.Paired, scale: float) -> str:
    return f"{100 * p.mean / scale:+.2f}%" if scale and math.isfinite(p.mean) else "–"


def _superiority_row(ident, text, setting, col, d, scale, paper, smoke, whose="the paper's") -> list[str]:
    p = stats.paired(d)
    verdict = stats.superiority(p)
    places = stats.decimals_for((p.high - p.low) / 2) if p.n > 1 else 3
    while places < 4 and p.n > 1 and any(b != 0 and round(b, places) == 0 for b in (p.low, p.high)):
        places += 1  # a bound that decides the verdict is never printed as 0
    measured = stats.fmt_interval(p.mean, p.low, p.high, places) + f" (n={p.n}, {_rel(p, scale)})"
    if verdict == "inconclusive" and p.n > 1:
        mde_rel = p.mde / scale if scale else math.nan
        cmp = ("" if paper is None else f" {'<' if mde_rel < abs(paper) else '≥'} {whose} {100 * abs(paper):.1f}%")
        verdict += f" (MDE {stats.fmt(p.mde, places + 1)} nats = {100 * mde_rel:.2f}%{cmp})"
    if smoke:
        verdict = f"smoke run: {verdict}"
    return _row(id=ident, claim=text, setting=setting, statistic=f"paired Δ {col}, 95% t interval",
                expected="< 0 (interval below 0)", measured=measured, verdict=verdict)


def _margin(manifest: dict) -> float:
    return float((manifest or {}).get("report", {}).get("margin", 0.01))


def effect_of_interest(suite: str, manifest: dict | None) -> tuple[float | None, str]:
    """The effect an inconclusive row's MDE is held against: the paper's, or where the paper gives
    none the smallest effect of interest the suite file declares before the run (``[report] effect``)."""
    if suite in PAPER:
        return PAPER[suite], "the paper's"
    declared = (manifest or {}).get("report", {}).get("effect")
    return (None, "") if declared is None else (-float(declared), "the declared")


def claim_rows(name: str, table: pd.DataFrame, target: str | None = None,
               manifest: dict | None = None) -> list[list[str]]:
    """The verdict rows of one LM suite (see the module docstring)."""
    suite = base_name(name)
    if suite not in _CLAIMS:
        return []
    fin = _reported(_lm_final(table), suite)
    if not len(fin):
        return []
    profile = (manifest or {}).get("profile") or (str(table["profile"].iloc[0]) if "profile" in table else "quick")
    smoke = profile != DECIDING
    tag = f" ({profile} profile)" if smoke else ""
    ident, text, kind, subject, comparators = _CLAIMS[suite]
    col = loss_column(suite, table) if target is None else (f"loss.{target}" if kind == "target" else "avg_loss")
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
            rows.append(_row(id=ident, claim=text, setting=f"{suite}{tag}: {method}",
                             statistic=f"paired Δ {col}; margin ±{stats.fmt(margin, places + 1)} "
                                       f"({100 * _margin(manifest):g}% of uniform)",
                             expected="one-sided 95% lower bound > −margin",
                             measured=stats.fmt_interval(p.mean, p.low, p.high, places)
                             + f" (n={p.n}, {_rel(p, scale)}; TOST {'equivalent' if equivalent else 'not equivalent'})",
                             verdict=verdict))
        return rows
    effect, whose = effect_of_interest(suite, manifest)
    for base in comparators:
        d = paired(fin, col, subject, base)
        if len(d) < 1:
            continue
        rows.append(_superiority_row(ident, text, f"{suite}{tag}: {subject} vs {base}", col, d, scale,
                                     effect, smoke, whose))
    if suite in LM5_SUITES:
        r = convergence(fin, subject)
        if r is not None:
            steps, flops = r
            verdict = ("holds" if steps[2] < 1 else "contradicted" if steps[1] > 1 else "inconclusive")
            if smoke:
                verdict = f"smoke run: {verdict}"
            rows.append(_row(id=LM5[0], claim=LM5[1], setting=f"{suite}{tag}: {subject} vs uniform",
                             statistic="Stage-Two steps to uniform's final test loss, ratio to uniform's (bootstrap)",
                             expected="< 1 (interval below 1)",
                             measured=f"{stats.fmt_interval(*steps[:3], 2)} (n={steps[3]}); FLOPs with the mixer's "
                                      f"{stats.fmt_interval(*flops[:3], 2)}", verdict=verdict))
    return rows


def _curve(fin: pd.DataFrame, method: str, seeds) -> tuple[np.ndarray, np.ndarray]:
    cols = sorted(c for c in fin.columns if c.startswith("curve.") and fin[c].notna().any())
    steps = np.array([int(c.split(".")[1]) for c in cols], dtype=np.float64)
    g = fin[fin["method"] == method].drop_duplicates("seed").set_index("seed")
    return steps, g[cols].reindex(seeds).to_numpy(dtype=np.float64) if cols else np.zeros((len(seeds), 0))


def steps_to(steps: np.ndarray, curve: np.ndarray, level: float) -> float:
    """The first step at which a loss curve reaches ``level`` (linear between logged points; the
    curve starts at step 0 above any level); inf when it never does."""
    prev_s, prev_v = 0.0, math.inf
    for s, v in zip(steps, curve):
        if v <= level:
            if not math.isfinite(prev_v):
                return float(s)
            return float(prev_s + (s - prev_s) * (prev_v - level) / (prev_v - v))
        prev_s, prev_v = s, v
    return math.inf


def convergence(fin: pd.DataFrame, method: str):
    """LM-5: per seed, the steps a method's Stage-Two run needs to reach uniform's final test loss
    (on the curve's evaluation set) over the steps uniform needs; and the same in FLOPs, the
    method's including its mixer's cost. Returns ((ratio, low, high, n), (ratio, low, high, n)) of
    means over seeds (bootstrap intervals), or None without curves. A run that never reaches the
    level counts as the whole run plus one logging interval (a lower bound of its true cost)."""
    seeds = sorted(set(fin.loc[fin["method"] == method, "seed"]) & set(fin.loc[fin["method"] == BASELINE, "seed"]))
    steps, cm = _curve(fin, method, seeds)
    _, cu = _curve(fin, BASELINE, seeds)
    if not len(steps) or not len(seeds):
        return None
    horizon = steps[-1] + (steps[-1] - steps[-2] if len(steps) > 1 else steps[-1])
    reach = lambda c, lv: min(steps_to(steps, c, lv), horizon)  # noqa: E731
    m_steps = np.array([reach(cm[i], cu[i][-1]) for i in range(len(seeds))])
    u_steps = np.array([reach(cu[i], cu[i][-1]) for i in range(len(seeds))])
    per_step = _values(fin, "stage_two.flops_per_step", BASELINE, seeds)
    mixer = np.nan_to_num(_values(fin, "cost.flops", method, seeds))
    m_flops = m_steps * _values(fin, "stage_two.flops_per_step", method, seeds) + mixer
    u_flops = u_steps * per_step
    return stats.ratio_of_means(m_steps, u_steps), stats.ratio_of_means(m_flops, u_flops)


def claims(data) -> list[list[str]]:
    """The verdict rows of every LM suite among ``data`` (deciding profile first)."""
    rows = []
    for sd in sorted(data, key=lambda sd: sd.manifest.get("profile") != DECIDING):
        rows += claim_rows(sd.name, sd.table, None, sd.manifest)
    return rows


# --- the deciding profile's tables: regime, tuning, empirical optimum, the paper side by side ---

def regime_table(suite: str, table: pd.DataFrame):
    """Per domain: unique training sequences, epochs seen under uniform and under each learned
    mixture (Stage Two), uniform's train and test loss, their gap [CI over seeds] and the test
    set's own standard error of that domain's loss."""
    fin = _reported(_lm_final(table), suite)
    if not len(fin) or not (fin["method"] == BASELINE).any():
        return None
    u = fin[fin["method"] == BASELINE]
    doms = [c[len("repetitions."):] for c in fin.columns if c.startswith("repetitions.") and fin[c].notna().any()]
    learned = [m for m in ("tandem", "doremi", "doge", "fixed#1") if (fin["method"] == m).any()]
    header = (["domain", "epochs (uniform)"] + [f"epochs ({m})" for m in learned]
              + ["train loss (uniform)", "test loss (uniform)", "train − test [CI]", "test-set SE"])
    rows = []
    for d in doms:
        row = [d, f"{u[f'repetitions.{d}'].mean():.2f}"]
        row += [f"{fin.loc[fin['method'] == m, f'repetitions.{d}'].mean():.2f}" for m in learned]
        if f"train_loss.{d}" in u and f"loss.{d}" in u:
            gap = u[f"train_loss.{d}"] - u[f"loss.{d}"]
            row += [f"{u[f'train_loss.{d}'].mean():.3f}", f"{u[f'loss.{d}'].mean():.3f}", _ci(gap),
                    f"{u[f'se.{d}'].mean():.3f}" if f"se.{d}" in u else "–"]
        else:
            row += ["–"] * 4
        rows.append(row)
    extra = [c[5:] for c in fin.columns if c.startswith("loss.") and c[5:] not in doms and fin[c].notna().any()]
    for d in extra:  # a fine-tuning target outside the mixture: its loss after pre-training and fine-tuning
        rows.append([f"{d} (target)", "–"] + ["–"] * len(learned)
                    + ["–", f"{u[f'loss.{d}'].mean():.3f}", "–",
                       f"{u[f'se.{d}'].mean():.3f}" if f"se.{d}" in u else "–"])
    return header, rows


def tuning_table(table: pd.DataFrame):
    """Each tuning study: the step sizes tried, the mean validation loss of each over the tuning
    seeds, the value chosen (bench.selection's rule), and what the tuning cost."""
    from bench.selection import rank

    fin = _lm_final(table)
    if not len(fin) or "study" not in fin:
        return None
    rows = []
    for study in [s for s in dict.fromkeys(fin["study"]) if str(s).startswith("tune-")]:
        g = fin[fin["study"] == study]
        params = [c for c in g.columns if c.startswith("grid.method.") and g[c].notna().any()]
        if not params:
            continue
        param = params[0]
        by = "val_avg_loss"
        suite = base_name(str(g["suite"].iloc[0])) if "suite" in g else ""
        if suite in _CLAIMS and _CLAIMS[suite][2] == "target":
            by = loss_column(suite, table, "val")
        cands = [({"method": r["method_name"], "method_params": {}}, {"method_label": r["method"],
                  "grid": {param[5:]: r[param]}}, {by: r[by]}) for _, r in g.iterrows()]
        best = rank(cands, by)[0][3][param[5:]]
        for v, gv in g.groupby(param, sort=True):
            rows.append([study[5:], param[len("grid.method."):], f"{v:g}", str(gv["seed"].nunique()),
                         f"{gv[by].mean():.4f}", "chosen" if v == best else "",
                         f"{(gv['cost.flops'] + gv['stage_two.flops']).sum() / 1e12:.3g}",
                         f"{gv['wall_s'].sum():.0f}"])
    header = ["method", "parameter", "value", "tuning seeds", "validation loss (mean)", "", "TFLOPs", "seconds"]
    return (header, rows) if rows else None


def optimum(suite: str, table: pd.DataFrame):
    """The empirical optimum: the best of uniform, natural and the grid's re-run best points by
    validation loss on the reported seeds; the gain it has over uniform on test (paired), and each
    method's share of that gain (ratio of mean gains, bootstrap interval)."""
    fin = _reported(_lm_final(table), suite)
    if not len(fin) or not (fin["method"] == "fixed#1").any():
        return None
    col, vcol = loss_column(suite, table), loss_column(suite, table, "val")
    cands = [m for m in ("uniform", "natural", "fixed#1", "fixed#2") if (fin["method"] == m).any()]
    best = min(cands, key=lambda m: (fin.loc[fin["method"] == m, vcol].mean(), m))
    seeds = sorted(set(fin.loc[fin["method"] == best, "seed"]) & set(fin.loc[fin["method"] == BASELINE, "seed"]))
    gain = -(_values(fin, col, best, seeds) - _values(fin, col, BASELINE, seeds))
    g = stats.paired(gain)
    doms = [c[6:] for c in fin.columns if c.startswith("alpha.") and fin[c].notna().any()]
    mix = ", ".join(f"{d} {fin.loc[fin['method'] == best, f'alpha.{d}'].iloc[0]:.3f}" for d in doms)
    header = ["method", f"mixture ({', '.join(doms)}; mean over seeds)", f"Δ {col} vs uniform [CI]",
              "share of the achievable gain [CI]"]
    rows = []
    for m in [x for x in dict.fromkeys(fin["method"]) if x != BASELINE]:
        mg = -(_values(fin, col, m, seeds) - _values(fin, col, BASELINE, seeds))
        share = stats.ratio_of_means(mg, gain)
        rows.append([m + (" (best of grid)" if m == best else ""),
                     ", ".join(f"{fin.loc[fin['method'] == m, f'alpha.{d}'].mean():.3f}" for d in doms),
                     _ci(-mg), "–" if not g.mean > 0 else stats.fmt_interval(*share[:3], 2)
                     + ("" if g.low > 0 else " (gain not resolved)")])
    if best == BASELINE:
        note = (f"Best of grid by validation loss: **uniform** itself ({mix}): no fixed mixture of the grid, natural "
                "included, beats it on validation, so the achievable gain is 0 and no share is defined.")
    else:
        note = (f"Best of grid by validation loss: **{best}** ({mix}); achievable gain over uniform on test "
                f"{stats.fmt_interval(g.mean, g.low, g.high)} nats (n={g.n}). Shares are mean gain over mean "
                "achievable gain (1 = as good as the best of the grid, 0 = uniform, below 0 = worse than uniform).")
    return header, rows, note


def paper_rows(data) -> list[list[str]]:
    """The paper side by side, one row per LM setting of the deciding profile: its relative effect,
    ours (TANDEM vs uniform, relative to uniform's loss) with its interval, and our verdict."""
    rows = []
    for sd in data:
        suite = base_name(sd.name)
        if sd.manifest.get("profile") != DECIDING or suite not in _CLAIMS:
            continue
        fin = _reported(_lm_final(sd.table), suite)
        if not (fin["method"] == "tandem").any():
            continue
        col = loss_column(suite, sd.table)
        seeds = sorted(set(fin.loc[fin["method"] == "tandem", "seed"])
                       & set(fin.loc[fin["method"] == BASELINE, "seed"]))
        rel = (_values(fin, col, "tandem", seeds) / _values(fin, col, BASELINE, seeds) - 1) * 100
        m, lo, hi, n = stats.t_interval(rel)
        p = stats.paired(paired(fin, col, "tandem"))
        verdict = stats.superiority(p)
        paper = PAPER.get(suite)
        effect, _ = effect_of_interest(suite, sd.manifest)
        text = PAPER_TEXT.get(suite, "") + (f" (declared effect of interest {100 * effect:+.1f}%)"
                                            if paper is None and effect is not None else "")
        rows.append([suite, text, "–" if paper is None else f"{100 * paper:+.1f}%",
                     stats.fmt_interval(m, lo, hi) + "%",
                     f"{100 * p.mde / fin.loc[fin['method'] == BASELINE, col].mean():.2f}%",
                     "TANDEM better" if verdict == "holds" else "TANDEM worse" if verdict == "contradicted"
                     else "no difference resolved"])
    return rows


PAPER_HEADER = ["setting", "paper", "paper: TANDEM vs uniform", "ours: TANDEM vs uniform [95% CI]", "our MDE",
                "ours"]


def mixture_shape(data) -> list[str]:
    """The restricted setting's learned mixture against the paper's shape (TANDEM put the small
    domains between their natural share and uniform: ArXiv 3.4% -> 8.9% against 14.3% uniform)."""
    for sd in data:
        if base_name(sd.name) != "lm-restricted" or sd.manifest.get("profile") != DECIDING:
            continue
        fin = _reported(_lm_final(sd.table), "lm-restricted")
        small = [c[len("repetitions."):] for c in fin.columns if c.startswith("repetitions.")
                 and (fin.loc[fin["method"] == BASELINE, c] > 1).all()]
        if not small or not (fin["method"] == "tandem").any():
            return []
        m = len([c for c in fin.columns if c.startswith("alpha.") and fin[c].notna().any()])
        parts = []
        for d in small:
            nat = fin.loc[fin["method"] == "natural", f"alpha.{d}"].mean()
            t = fin.loc[fin["method"] == "tandem", f"alpha.{d}"]
            where = ("between natural and uniform" if nat < t.mean() < 1 / m else "below natural" if t.mean() <= nat
                     else "above uniform")
            parts.append(f"{d} {100 * nat:.1f}% → {100 * t.mean():.1f}% [{100 * t.min():.1f}–{100 * t.max():.1f}] "
                         f"against {100 / m:.1f}% uniform ({where})")
        return ["Restricted setting, TANDEM's learned weights of the repeated domains (natural share → TANDEM, "
                "mean [lowest–highest seed]): " + "; ".join(parts) + ". The paper: ArXiv 3.4% → 8.9% against "
                "14.3% uniform (between natural and uniform)."]
    return []


def sections(sd) -> list[tuple[str, list[str], list[list[str]], str]]:
    """The extra report sections of a deciding LM suite: (title, header, rows, note)."""
    suite = base_name(sd.name)
    if suite not in _CLAIMS or not len(sd.table):
        return []
    out = []
    reg = regime_table(suite, sd.table)
    if reg:
        out.append(("Regime (Stage Two): epochs per domain and the train-test gap", *reg,
                    "Epochs: passes over each domain's unique training tokens. Train − test: uniform's loss on "
                    "training sequences minus its test loss, mean [95% CI] over seeds; the test-set SE is the "
                    "standard error of the test loss over its sequences (the test set's own noise)."))
    tun = tuning_table(sd.table)
    if tun:
        out.append(("Step-size tuning (tuning seeds, validation split)", *tun,
                    "Each online method's step size is the value with the lowest mean validation loss of its "
                    "Stage-Two runs on the tuning seeds (disjoint from the reported seeds); test is never read."))
    opt = optimum(suite, sd.table)
    if opt:
        out.append(("Empirical optimum and the share of it each method captures", opt[0], opt[1], opt[2]))
    return out


def summary(sd):
    """The summary table of an LM suite (SuiteData of bench.report.data), or None for other suites."""
    suite = base_name(sd.name)
    header, rows = perplexity_table(sd.table, target_of(sd.table), suite if suite in _CLAIMS else "")
    return (header, rows) if rows else None
