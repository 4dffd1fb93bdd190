"""LM tables from stored suite results (pure functions of the tidy table): perplexities, the
regime (epochs and train-test gap), tuning, the best of the fixed-mixture grid, the paper side by
side, and the report's sections. The claim verdicts are bench.evidence.verdicts.
"""

from __future__ import annotations

import pandas as pd

from . import stats
from .verdicts import (
    BASELINE,
    DECIDING,
    base_name,
    ci_text,
    claim_of,
    effect_of_interest,
    lm_final,
    loss_column,
    paired,
    reported,
    seed_values,
    target_of,
)


def perplexity_table(table: pd.DataFrame, target: str | None = None,
                     suite: str = "") -> tuple[list[str], list[list[str]]]:
    """One row per (problem, method) of the reported studies: per-domain ppl means, average ppl
    [CI], accuracy [CI] where the tasks are supervised, paired Delta loss vs uniform [CI], mixer
    FLOPs, seconds."""
    fin = reported(lm_final(table), suite) if suite else lm_final(table)
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
        row.append(ci_text(g["avg_ppl"]))
        if acc:
            row.append(ci_text(g["avg_acc"]))
        sub = fin[fin["problem"] == problem]
        if not (sub["method"] == BASELINE).any():  # a variant problem of the suite: pair by seed with its uniform
            sub = pd.concat([sub, fin[fin["method"] == BASELINE].drop_duplicates("seed")])
        row.append("–" if method == BASELINE else ci_text(paired(sub, loss_col, method)))
        row.append(f"{g['cost.flops'].mean() / 1e12:.3g}" if "cost.flops" in g else "–")
        row.append(f"{g['wall_s'].mean():.0f}" if "wall_s" in g else "–")
        rows.append(row)
    return header, rows


# --- verdicts ---------------------------------------------------------------------------------


def regime_table(suite: str, table: pd.DataFrame):
    """Per domain: unique training sequences, epochs seen under uniform and under each learned
    mixture (Stage Two), uniform's train and test loss, their gap [CI over seeds] and the test
    set's own standard error of that domain's loss."""
    fin = reported(lm_final(table), suite)
    if not len(fin) or not (fin["method"] == BASELINE).any():
        return None
    u = fin[fin["method"] == BASELINE]
    doms = [c[len("repetitions."):] for c in fin.columns if c.startswith("repetitions.") and fin[c].notna().any()]
    learned = learned_methods(fin)
    header = (["domain", "epochs (uniform)"] + [f"epochs ({m})" for m in learned]
              + ["train loss (uniform)", "test loss (uniform)", "train − test [CI]", "test-set SE"])
    rows = []
    for d in doms:
        row = [d, f"{u[f'repetitions.{d}'].mean():.2f}"]
        row += [f"{fin.loc[fin['method'] == m, f'repetitions.{d}'].mean():.2f}" for m in learned]
        if f"train_loss.{d}" in u and f"loss.{d}" in u:
            gap = u[f"train_loss.{d}"] - u[f"loss.{d}"]
            row += [f"{u[f'train_loss.{d}'].mean():.3f}", f"{u[f'loss.{d}'].mean():.3f}", ci_text(gap),
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


# why a deciding suite's choice at a grid edge stands (issue 22, item 6), printed under its tuning table
EDGE_WHY = ("A choice at an edge of its grid is marked: where the suite declares `extend`, the grid grew until "
            "the choice was interior or the next value left the declared bounds (bench/selection.py); the "
            "deciding profile's grids were declared and run before that rule, and extending them means "
            "re-running the whole profile (about 90 minutes of both cores) on the CPU kind that computed it "
            "(the LM's bits differ across CPU vendors), so their edge choices stand as run and say so.")


def tuning_table(table: pd.DataFrame):
    """Each tuning study: the step sizes tried, the mean validation loss of each over the tuning
    seeds, the value chosen (bench.selection's rule), and what the tuning cost."""
    from bench.selection import edge_note, rank

    from .reading import declared_extension

    fin = lm_final(table)
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
        claim = claim_of(suite)
        if claim is not None and claim.column == "target":
            by = loss_column(suite, table, "val")
        cands = [({"method": r["method_name"], "method_params": {}}, {"method_label": r["method"],
                  "grid": {param[5:]: r[param]}}, {by: r[by]}) for _, r in g.iterrows()]
        best = rank(cands, by)[0][3][param[5:]]
        values = sorted(g[param].dropna().unique())
        # a choice at an end of its grid is not tuned: the optimum may lie beyond it (said, not hidden,
        # with the reason it stands: the declared bound of its extension, or no extension declared)
        note = edge_note(values, best, declared_extension(suite, study))
        edge = f" ({note})" if note else ""
        for v, gv in g.groupby(param, sort=True):
            rows.append([study[5:], param[len("grid.method."):], f"{v:g}", str(gv["seed"].nunique()),
                         f"{gv[by].mean():.4f}", "chosen" + edge if v == best else "",
                         f"{(gv['cost.flops'] + gv['stage_two.flops']).sum() / 1e12:.3g}",
                         f"{gv['wall_s'].sum():.0f}"])
    header = ["method", "parameter", "value", "tuning seeds", "validation loss (mean)", "", "TFLOPs", "seconds"]
    return (header, rows) if rows else None


def optimum(suite: str, table: pd.DataFrame):
    """The empirical optimum: the best of uniform, natural and the grid's re-run best points by
    validation loss on the reported seeds; the gain it has over uniform on test (paired), and each
    method's share of that gain (ratio of mean gains, bootstrap interval)."""
    fin = reported(lm_final(table), suite)
    if not len(fin) or not (fin["method"] == "fixed#1").any():
        return None
    col, vcol = loss_column(suite, table), loss_column(suite, table, "val")
    cands = [m for m in ("uniform", "natural", "fixed#1", "fixed#2") if (fin["method"] == m).any()]
    best = min(cands, key=lambda m: (fin.loc[fin["method"] == m, vcol].mean(), m))
    seeds = sorted(set(fin.loc[fin["method"] == best, "seed"]) & set(fin.loc[fin["method"] == BASELINE, "seed"]))
    gain = -(seed_values(fin, col, best, seeds) - seed_values(fin, col, BASELINE, seeds))
    g = stats.paired(gain)
    doms = [c[6:] for c in fin.columns if c.startswith("alpha.") and fin[c].notna().any()]
    mix = ", ".join(f"{d} {fin.loc[fin['method'] == best, f'alpha.{d}'].iloc[0]:.3f}" for d in doms)
    header = ["method", f"mixture ({', '.join(doms)}; mean over seeds)", f"Δ {col} vs uniform [CI]",
              "share of the achievable gain [CI]"]
    rows = []
    for m in [x for x in dict.fromkeys(fin["method"]) if x != BASELINE]:
        mg = -(seed_values(fin, col, m, seeds) - seed_values(fin, col, BASELINE, seeds))
        share = stats.ratio_of_means(mg, gain)
        rows.append([m + (" (best of grid)" if m == best else ""),
                     ", ".join(f"{fin.loc[fin['method'] == m, f'alpha.{d}'].mean():.3f}" for d in doms),
                     ci_text(-mg), "–" if not g.mean > 0 else stats.fmt_interval(*share[:3], 2)
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
        claim = claim_of(suite)
        if sd.manifest.get("profile") != DECIDING or claim is None:
            continue
        fin = reported(lm_final(sd.table), suite)
        if not (fin["method"] == "tandem").any():
            continue
        col = loss_column(suite, sd.table)
        seeds = sorted(set(fin.loc[fin["method"] == "tandem", "seed"])
                       & set(fin.loc[fin["method"] == BASELINE, "seed"]))
        rel = (seed_values(fin, col, "tandem", seeds) / seed_values(fin, col, BASELINE, seeds) - 1) * 100
        m, lo, hi, n = stats.t_interval(rel)
        p = stats.paired(paired(fin, col, "tandem"))
        verdict = stats.superiority(p)
        paper = claim.paper
        effect, _ = effect_of_interest(suite, sd.manifest)
        text = claim.paper_text + (f" (declared effect of interest {100 * effect:+.1f}%)"
                                   if paper is None and effect is not None else "")
        rows.append([suite, text, "–" if paper is None else f"{100 * paper:+.1f}%",
                     stats.fmt_interval(m, lo, hi) + "%",
                     f"{100 * p.mde / fin.loc[fin['method'] == BASELINE, col].mean():.2f}%",
                     "TANDEM better" if verdict == "holds" else "TANDEM worse" if verdict == "contradicted"
                     else "no difference resolved"])
    return rows


PAPER_HEADER = ["setting", "paper", "paper: TANDEM vs uniform", "ours: TANDEM vs uniform [95% CI]", "our MDE",
                "ours"]


def learned_methods(fin: pd.DataFrame) -> list[str]:
    """The methods of a table whose mixture is learned: every mixer (a method that is not a fixed mixture,
    by its registered class), then the grid's best point re-run on the reported seeds ("fixed#1")."""
    from tandem_ref.methods.base import FixedMixtureMethod
    from tandem_ref.registry import method_class

    names = dict(zip(fin["method"], fin["method_name"])) if "method_name" in fin else {}
    mixers = [m for m, n in names.items() if not issubclass(method_class(n), FixedMixtureMethod)]
    return mixers + [m for m in ("fixed#1",) if m in names]


def mixture_shape(data) -> list[str]:
    """Where the paper describes the shape of its learned mixture (``LMClaim.paper_shape``: in the
    restricted setting TANDEM put the small domains between their natural share and uniform), ours
    beside it: the repeated domains' natural share, uniform share and TANDEM's weight."""
    for sd in data:
        suite = base_name(sd.name)
        claim = claim_of(suite)
        if claim is None or not claim.paper_shape or sd.manifest.get("profile") != DECIDING:
            continue
        fin = reported(lm_final(sd.table), suite)
        small = [c[len("repetitions."):] for c in fin.columns if c.startswith("repetitions.")
                 and (fin.loc[fin["method"] == BASELINE, c] > 1).all()]
        if not small or not (fin["method"] == claim.subject).any():
            return []
        m = len([c for c in fin.columns if c.startswith("alpha.") and fin[c].notna().any()])
        parts = []
        for d in small:
            nat = fin.loc[fin["method"] == "natural", f"alpha.{d}"].mean()
            t = fin.loc[fin["method"] == claim.subject, f"alpha.{d}"]
            where = ("between natural and uniform" if nat < t.mean() < 1 / m else "below natural" if t.mean() <= nat
                     else "above uniform")
            parts.append(f"{d} {100 * nat:.1f}% → {100 * t.mean():.1f}% [{100 * t.min():.1f}–{100 * t.max():.1f}] "
                         f"against {100 / m:.1f}% uniform ({where})")
        return [f"{suite}: TANDEM's learned weights of the repeated domains (natural share → TANDEM, mean "
                "[lowest–highest seed]): " + "; ".join(parts)
                + f". The paper: {claim.paper_shape}."]
    return []


def sections(sd) -> list[tuple[str, list[str], list[list[str]], str]]:
    """The extra report sections of a deciding LM suite: (title, header, rows, note)."""
    suite = base_name(sd.name)
    if claim_of(suite) is None or not len(sd.table):
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
                    "Stage-Two runs on the tuning seeds (disjoint from the reported seeds); test is never read. "
                    + EDGE_WHY))
    opt = optimum(suite, sd.table)
    if opt:
        out.append(("Empirical optimum and the share of it each method captures", opt[0], opt[1], opt[2]))
    return out


def summary(sd):
    """The summary table of an LM suite (SuiteData of bench.report.data), or None for other suites."""
    suite = base_name(sd.name)
    header, rows = perplexity_table(sd.table, target_of(sd.table), suite if claim_of(suite) else "")
    return (header, rows) if rows else None
