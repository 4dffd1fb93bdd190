"""Do the small-LM verdicts carry to larger models? The model-size ladder (profile ``scale``, issue 22).

The suites ``scale-abundant`` and ``scale-restricted`` (bench/suites/scale-*.toml) train the same
settings at four sizes, one problem label per size. From their stored results:

- per size, the claim each setting decides at the deciding profile (LM-1, LM-2), by the same verdict
  code (bench.evidence.verdicts.claim_rows) on that size's rows, with the regime beside it;
- rank agreement of the grid's fixed mixtures across sizes (bench.evidence.agreement), beside the
  noise floor and RegMix's published 1M / 60M runs;
(the claim rows of LM-6 and LM-7, and every ladder row of the claims table: bench.evidence.ladder_claims)
- LM-6, transfer: the mixture a method learned at the smallest size, trained at the largest, keeps at
  least ``[report] keep`` of the gain over uniform of the mixture the method learns there;
- LM-7, efficiency: TANDEM's mixer against DoGE's (the paper: 26 against 65 minutes), in wall time
  and FLOPs, at the ladder's smallest and largest size and on the deciding profile's stored runs.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from bench.selection import edge_note
from bench.tabulate import commits

from . import agreement, stats
from .claims import LM_CLAIMS, base_name
from .reading import BASELINE, declared_extension, lm_final, paired

# the ladder suites and the claim each decides at every size
LADDER = {"scale-abundant": "LM-1", "scale-restricted": "LM-2"}
PAPER_PARAMS = 160e6  # the paper's model (research/tandem_paper.md)
GRID_BEST = "grid best"  # the grid's mixture with the lowest mean validation loss at a size


def ladder_data(data, preferred: bool = False) -> list:
    """The ladder suites among ``data`` (SuiteData), deciding (scale) profile first; ``preferred``: one
    per suite, the scale profile's where it is stored (the tables and the figure), else the smoke run's."""
    out = sorted((sd for sd in data if base_name(sd.name) in LADDER and len(sd.table)),
                 key=lambda sd: sd.manifest.get("profile") != "scale")
    if preferred:
        first = {}
        for sd in out:
            first.setdefault(base_name(sd.name), sd)
        out = list(first.values())
    return out


def sizes(fin: pd.DataFrame) -> list[tuple[str, int]]:
    """(problem label, parameter count) of each size, smallest first."""
    if "n_params" not in fin:
        return []
    n = fin.dropna(subset=["n_params"]).groupby("problem", sort=False)["n_params"].first()
    return sorted(((str(p), int(v)) for p, v in n.items()), key=lambda t: t[1])


def size_text(n: float) -> str:
    return f"{n / 1e6:.3g}M"


def _grid_mixtures(fin: pd.DataFrame, problem: str) -> pd.DataFrame:
    """The reported-seed rows of every fixed mixture at ``problem``: the grid's points, uniform and
    natural, each labelled by its mixture."""
    g = fin[(fin["problem"] == problem) & (fin["study"] == "grid")].copy()
    g["mixture"] = g["method.weights"].map(lambda w: "[" + ", ".join(f"{x:g}" for x in _weights(w)) + "]")
    base = fin[(fin["problem"] == problem) & fin["method"].isin([BASELINE, "natural"])
               & (fin["study"] == fin["suite"].map(base_name))].copy()
    base["mixture"] = base["method"]
    return pd.concat([g, base])


def _weights(w) -> tuple:
    """A fixed mixture's weights as stored (a list, or its JSON text in the tidy table)."""
    return tuple(json.loads(w) if isinstance(w, str) else w)


def _with_grid_best(fin: pd.DataFrame, suite: str, problem: str) -> pd.DataFrame:
    """The size's rows of the reported study, plus the grid's best mixture (by mean validation loss:
    never test) as method ``grid best`` of that study (LM-1 asks whether any fixed mixture beats uniform)."""
    rows = fin[(fin["problem"] == problem) & (fin["study"] == suite)]
    g = fin[(fin["problem"] == problem) & (fin["study"] == "grid")]
    if len(g):
        key = g["method.weights"].map(_weights)
        best = g.groupby(key)["val_avg_loss"].mean().sort_values(kind="stable").index[0]
        extra = g[key == best].assign(method=GRID_BEST, study=suite)
        rows = pd.concat([rows, extra])
    return rows


def claim_rows(sd) -> list[list[str]]:
    """Per size, the verdict rows of the claim the ladder suite decides (with declared/computed at)."""
    from .verdicts import claim_rows as rows_of  # verdicts imports this module's neighbours only

    suite = base_name(sd.name)
    claim = LM_CLAIMS[LADDER[suite]]
    fin = lm_final(sd.table)
    at = commits(sd.run)
    out = []
    for problem, n in sizes(fin):
        sub = _with_grid_best(fin, suite, problem) if claim.subject is None else \
            fin[(fin["problem"] == problem) & (fin["study"] == suite)]
        for r in rows_of(sd.name, sub, None, sd.manifest, claim=claim, label=f"{suite} {size_text(n)}"):
            r[0] = f"{claim.id} ladder"
            r[1] = f"{claim.text}, at each size of the CPU ladder"
            out.append(r[:-2] + [at["declared at"], at["computed at"]])
    return out


# --- the regime and the effect per size ----------------------------------------------------------

def effect(fin: pd.DataFrame, suite: str, problem: str, method: str = "tandem"):
    """stats.Paired of method - uniform (avg test loss) at one size, and uniform's mean loss there."""
    sub = fin[(fin["problem"] == problem) & (fin["study"] == suite)]
    u = sub.loc[sub["method"] == BASELINE, "avg_loss"]
    return stats.paired(paired(sub, "avg_loss", method)), float(u.mean()) if len(u) else math.nan


LADDER_HEADER = ["setting", "size", "parameters", "Stage-Two tokens", "max epochs of a domain (uniform)",
                 "train − test (uniform) [CI]", "uniform test loss", "TANDEM η (tuned)", "TANDEM − uniform [CI]",
                 "relative", "natural − uniform", "verdict"]


def ladder_table(sd) -> list[list[str]]:
    """One row per size (and the paper's 160M row): the regime, TANDEM's tuned step, its paired effect."""
    suite = base_name(sd.name)
    claim = LM_CLAIMS[LADDER[suite]]
    fin = lm_final(sd.table)
    verdicts = {r[2].split(":")[0].split(" (")[0]: r[6] for r in claim_rows(sd) if r[2].endswith("tandem vs uniform")
                or r[2].endswith(": tandem")}
    tune = fin[fin["study"] == "tune-tandem"]
    bounds = declared_extension(suite, "tune-tandem")  # the committed results are the current design's
    rows = []
    for problem, n in sizes(fin):
        p, scale = effect(fin, suite, problem)
        sub = fin[(fin["problem"] == problem) & (fin["study"] == suite)]
        u = sub[sub["method"] == BASELINE]
        reps = [c for c in u.columns if c.startswith("repetitions.") and u[c].notna().any()]
        epochs = max(float(u[c].mean()) for c in reps) if reps and len(u) else math.nan
        gap = (u["train_avg_loss"] - u["avg_loss"]) if {"train_avg_loss", "avg_loss"} <= set(u) else []
        eta = sub.loc[sub["method"] == "tandem", "method.eta_alpha"]
        grid = sorted(tune.loc[tune["problem"] == problem, "method.eta_alpha"].dropna().unique())
        note = edge_note(grid, eta.iloc[0], bounds) if len(eta) and grid else ""
        eta_text = "–" if not len(eta) else f"{eta.iloc[0]:g}" + (f" ({note})" if note else "")
        nat = stats.paired(paired(sub, "avg_loss", "natural"))
        tokens = u["stage_two.steps"].mean() * _tokens_per_step(sd, problem) if len(u) else math.nan
        rows.append([suite, problem.rsplit("-", 1)[-1], size_text(n), f"{tokens:,.0f}",
                     f"{epochs:.1f}", stats.fmt_interval(*stats.t_interval(gap)[:3]) if len(gap) else "–",
                     f"{scale:.3f}", eta_text, stats.fmt_interval(p.mean, p.low, p.high),
                     f"{100 * p.mean / scale:+.2f}%" if scale else "–",
                     stats.fmt_interval(nat.mean, nat.low, nat.high) if nat.n else "–",
                     verdicts.get(f"{suite} {size_text(n)}", "–")])
    paper = ("ppl 28.07 vs 31.53: " + f"{100 * claim.paper:+.2f}%") if claim.paper is not None else claim.paper_text
    rows.append([suite, "the paper", size_text(PAPER_PARAMS), "–", "–", "–", "–", "–", "–", paper, "–", "–"])
    return rows


def _tokens_per_step(sd, problem: str) -> float:
    for e in sd.manifest.get("cells", []):
        if e["labels"].get("problem_label") == problem:
            pp = e["cell"]["problem_params"]
            return float(pp.get("seq_len", 128)) * float(pp.get("batch_size", 16))
    return math.nan


# --- rank agreement across sizes -----------------------------------------------------------------

AGREEMENT_HEADER = ["runs", "mixtures (pairs)", "small size", "target size", "Spearman ρ [95% CI]",
                    "decision accuracy [95% CI]", "resampled"]


def _fmt3(t) -> str:
    return "–" if not math.isfinite(t[0]) else f"{t[0]:.2f} [{t[1]:.2f}, {t[2]:.2f}]"


def agreement_rows(data, regmix_folder=None) -> list[list[str]]:
    """Ours per smaller size against the largest, the largest's noise floor, and RegMix's tables."""
    rows = []
    for sd in ladder_data(data, preferred=True):
        fin = lm_final(sd.table)
        ladder = sizes(fin)
        if len(ladder) < 2:
            continue
        mats = {}
        for problem, _ in ladder:
            g = _grid_mixtures(fin, problem)
            # the seeds every mixture ran on (uniform and natural may have more than the grid's)
            mats[problem] = g.pivot_table(index="mixture", columns="seed", values="avg_loss").dropna(axis=1)
        top, top_n = ladder[-1]
        names = mats[top].index
        k = len(names)
        label = f"ours: {base_name(sd.name)} ({sd.manifest.get('profile')})"
        for problem, n in ladder[:-1]:
            a = mats[problem].reindex(names).dropna(axis=1).to_numpy()
            b = mats[top].reindex(names).dropna(axis=1).to_numpy()
            if a.shape[1] < 1 or b.shape[1] < 1:
                continue
            rho = agreement.across_seeds(a, b, agreement.spearman)
            acc = agreement.across_seeds(a, b, agreement.decision_accuracy)
            rows.append([label, f"{k} ({k * (k - 1) // 2})", size_text(n), size_text(top_n), _fmt3(rho), _fmt3(acc),
                         f"seeds ({a.shape[1]} and {b.shape[1]})"])
        b = mats[top].reindex(names).dropna(axis=1).to_numpy()
        if b.shape[1] >= 2:
            rho = agreement.noise_floor(b, agreement.spearman)
            acc = agreement.noise_floor(b, agreement.decision_accuracy)
            rows.append([label + ": noise floor", f"{k} ({k * (k - 1) // 2})", size_text(top_n) + " (half the seeds)",
                         size_text(top_n) + " (the other half)", f"{rho[0]:.2f} (range {rho[1]:.2f}–{rho[2]:.2f})",
                         f"{acc[0]:.2f} (range {acc[1]:.2f}–{acc[2]:.2f})", f"{rho[3]} splits of {b.shape[1]} seeds"])
    if regmix_folder is not None:
        for a_size, b_size, a, b in agreement.regmix_pairs(regmix_folder):
            k = len(a)
            rows.append(["RegMix (published; Pile-CC validation loss)", f"{k} ({k * (k - 1) // 2})", a_size.upper(),
                         b_size.upper(), _fmt3(agreement.across_rows(a, b, agreement.spearman)),
                         _fmt3(agreement.across_rows(a, b, agreement.decision_accuracy)), "mixtures (one run each)"])
    return rows


def effect_points(data) -> list[dict]:
    """For the figure: per setting and size, TANDEM's relative effect against uniform with its interval."""
    pts = []
    for sd in ladder_data(data, preferred=True):
        suite = base_name(sd.name)
        fin = lm_final(sd.table)
        for problem, n in sizes(fin):
            p, scale = effect(fin, suite, problem)
            if p.n and scale:
                pts.append({"suite": suite, "claim": LADDER[suite], "n_params": n, "rel": 100 * p.mean / scale,
                            "low": 100 * p.low / scale, "high": 100 * p.high / scale,
                            "profile": sd.manifest.get("profile")})
    return pts
