"""The ladder's claims (bench.evidence.ladder has the sizes, tables and agreement): LM-6, transfer across
scale, and LM-7, TANDEM's mixer cost against DoGE's, and every ladder row of the claims table.

- LM-6: the mixture a method learned at the smallest size, trained at the largest, keeps at least
  ``[report] keep`` of the gain over uniform of the mixture the method learns there (a proxy at
  least 16x smaller);
- LM-7: the mixer's wall time (the cell's time minus its Stage Two) and FLOPs, TANDEM over DoGE, on
  the deciding profile's stored runs and at the ladder's smallest and largest size.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bench.tabulate import CLAIM_COLUMNS, commits

from . import agreement
from .claims import base_name
from .ladder import LADDER, claim_rows, ladder_data, size_text, sizes
from .reading import BASELINE, DECIDING, lm_final
from .reading import _by_seed as by_seed  # one method's column by seed, as the paired differences read it

LM6 = ("LM-6", "a mixture learned on a proxy at least 16x smaller keeps at least half of the gain over uniform "
               "of the mixture the same method learns at the target size")
LM7 = ("LM-7", "TANDEM's mixer costs less than DoGE's (the paper: 26 against 65 minutes at 160M, 0.40)")
LM7_WHY = ("TANDEM takes E + K gradient steps per E proxy steps (the reference model's probe) on batches that add "
           "validation rows; DoGE's code takes each domain's gradient on its share of the proxy's own batch, one "
           "backward per step plus a validation backward")

# (method label, the study it is learned in at the target size): the mixers LM-6 moves across scale
TRANSFERRED = (("tandem", None), ("doge-lm", "doge"), ("doremi-lm", "doremi"))


def _ratio_interval(num: pd.Series, den: pd.Series, seed: int = 0) -> tuple[float, float, float, int]:
    """mean(num) / mean(den) over the seeds both have, with a paired percentile bootstrap over seeds."""
    common = num.index.intersection(den.index).sort_values()
    a, b = num[common].to_numpy(np.float64), den[common].to_numpy(np.float64)
    if not len(a) or b.mean() == 0:
        return math.nan, math.nan, math.nan, len(a)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(agreement.BOOT):
        i = rng.integers(0, len(a), len(a))
        if b[i].mean() != 0:
            boots.append(a[i].mean() / b[i].mean())
    _, low, high = agreement._percentile(boots, 0.0)
    return float(a.mean() / b.mean()), low, high, len(a)


def _row(**fields) -> list[str]:
    return [str(fields.get(c, "")) for c in CLAIM_COLUMNS]


def transfer_rows(sd) -> list[list[str]]:
    """LM-6 at the ladder's largest size: share of the target-size gain kept by each transferred mixture."""
    fin = lm_final(sd.table)
    ladder = sizes(fin)
    if len(ladder) < 2 or "transfer" not in set(fin["study"]):
        return []
    (small, n_small), (top, n_top) = ladder[0], ladder[-1]
    keep = float((sd.manifest.get("report") or {}).get("keep", 0.5))
    suite = base_name(sd.name)
    at = fin[fin["problem"] == top]
    uni = by_seed(at[at["study"] == suite], "avg_loss", BASELINE)
    smoke = sd.manifest.get("profile") != "scale"
    out = []
    # the grid's best fixed mixture at the target size (chosen on validation, re-run on every seed)
    best = at[at["study"] == "grid-best"]
    gain_best = (uni - by_seed(best, "avg_loss", best["method"].iloc[0])).dropna() if len(best) else None
    for method, native_study in TRANSFERRED:
        native_study = native_study or suite
        moved = at[(at["study"] == "transfer") & at["method"].str.startswith(method.split("-")[0] + "@")]
        native = at[(at["study"] == native_study) & (at["method"] == method)]
        if not len(moved) or not len(native):
            continue
        gain_moved = uni - by_seed(moved, "avg_loss", moved["method"].iloc[0])
        gain_native = uni - by_seed(native, "avg_loss", method)
        share = _ratio_interval(gain_moved.dropna(), gain_native.dropna())
        mean_native = float(gain_native.mean())
        against_best = ""
        if gain_best is not None and len(gain_best):
            sb = _ratio_interval(gain_moved.dropna(), gain_best)
            against_best = (f"; against the grid's best there (gain {gain_best.mean():+.4f} nats): "
                            f"{sb[0]:.2f} [{sb[1]:.2f}, {sb[2]:.2f}]")
        if n_top / n_small < 16:  # the claim is about a proxy at least 16x smaller
            verdict = f"not applicable (the proxy is {n_top / n_small:.1f}x smaller, the claim needs 16x)"
        elif not (mean_native > 0):
            verdict = (f"inconclusive (the mixture learned at {size_text(n_top)} gains {mean_native:+.4f} nats "
                       "over uniform: no gain to keep)")
        elif share[1] >= keep:
            verdict = "holds"
        elif share[2] < keep:
            verdict = "contradicted"
        else:
            verdict = "inconclusive"
        # with transfer the mixer runs at the small size: its FLOPs against uniform's Stage Two at the target
        src = fin[(fin["problem"] == small) & (fin["method"] == method)]
        flops = (src["cost.flops"].mean() + moved["stage_two.flops"].mean()) / \
            at.loc[(at["study"] == suite) & (at["method"] == BASELINE), "stage_two.flops"].mean()
        out.append(_row(
            id=LM6[0], claim=LM6[1],
            setting=f"{suite}{' (' + str(sd.manifest.get('profile')) + ' profile)' if smoke else ''}: "
                    f"{method.split('-')[0]} learned at {size_text(n_small)}, trained at {size_text(n_top)} "
                    f"({n_top / n_small:.1f}x)",
            statistic="gain over uniform kept: mean(transferred gain) / mean(target-size gain), paired bootstrap",
            expected=f"≥ {keep:g} (interval above {keep:g}; declared in the suite)",
            measured=f"{share[0]:.2f} [{share[1]:.2f}, {share[2]:.2f}] (n={share[3]}); gains {gain_moved.mean():+.4f} "
                     f"vs {mean_native:+.4f} nats; FLOPs with the mixer's (at {size_text(n_small)}) "
                     f"{flops:.2f}x uniform's{against_best}",
            verdict=("smoke run: " if smoke else "") + verdict))
    return out


def mixer_cost(fin: pd.DataFrame, study: str, method: str) -> pd.DataFrame:
    """Per seed, the mixer's wall time (the cell's time minus its Stage Two) and FLOPs."""
    g = fin[(fin["study"] == study) & (fin["method"] == method)].drop_duplicates("seed").set_index("seed")
    return pd.DataFrame({"wall": g["wall_s"] - g["stage_two.wall_s"], "flops": g["cost.flops"]})


def cost_row(setting: str, tandem: pd.DataFrame, doge: pd.DataFrame, smoke: bool) -> list[str]:
    wall = _ratio_interval(tandem["wall"], doge["wall"])
    flops = _ratio_interval(tandem["flops"], doge["flops"])
    verdict = "holds" if wall[2] < 1 else "contradicted" if wall[1] > 1 else "inconclusive"
    verdict += f" ({'excludes' if not (wall[1] <= 0.40 <= wall[2]) else 'includes'} the paper's 0.40)"
    return _row(id=LM7[0], claim=LM7[1], setting=setting,
                statistic="mixer wall time, TANDEM / DoGE, ratio of means over paired seeds (bootstrap)",
                expected="< 1 (interval below 1)",
                measured=f"{wall[0]:.2f} [{wall[1]:.2f}, {wall[2]:.2f}] (n={wall[3]}); FLOPs {flops[0]:.2f}. Why: "
                         + LM7_WHY, verdict=("smoke run: " if smoke else "") + verdict)


def cost_rows(data) -> list[list[str]]:
    """LM-7 on the deciding profile's stored runs (every setting with both) and at the ladder's ends."""
    out = []
    for sd in data:
        suite = base_name(sd.name)
        if sd.manifest.get("profile") != DECIDING or not len(sd.table) or suite in LADDER:
            continue
        fin = lm_final(sd.table)
        t, d = mixer_cost(fin, suite, "tandem"), mixer_cost(fin, suite, "doge")
        if len(t) and len(d):
            at = commits(sd.run)
            out.append(cost_row(f"{suite} ({DECIDING} profile, {size_text(fin['n_params'].iloc[0])})", t, d, False)[:-2]
                       + [at["declared at"], at["computed at"]])
    for sd in ladder_data(data):
        if base_name(sd.name) != "scale-restricted":
            continue
        fin = lm_final(sd.table)
        at = commits(sd.run)
        smoke = sd.manifest.get("profile") != "scale"
        for problem, n in sizes(fin):
            sub = fin[fin["problem"] == problem]
            t, d = mixer_cost(sub, "scale-restricted", "tandem"), mixer_cost(sub, "doge", "doge-lm")
            if len(t) and len(d):
                out.append(cost_row(f"scale-restricted {size_text(n)}", t, d, smoke)[:-2]
                           + [at["declared at"], at["computed at"]])
    return out


FIRST_DESIGN = "seeds 0-3, TANDEM's grid 3-30 not extended"  # what the ladder's first declared design was


def claims(data, first=()) -> list[list[str]]:
    """Every claim row the ladder decides: LM-1 and LM-2 per size, LM-6, LM-7. ``first``: the stored
    results of a ladder suite's first declared design, where its design changed after they were seen
    (results/first-design/): their verdict rows follow, marked, and the new rows say so."""
    rows = []
    earlier = {base_name(sd.name): sd for sd in ladder_data(first)}
    for sd in ladder_data(data):
        at = commits(sd.run)
        old = earlier.get(base_name(sd.name)) if sd.manifest.get("profile") == "scale" else None
        oat = None if old is None else commits(old.run)
        note = "" if old is None else f" (changed after results were seen; first design {oat['declared at']})"
        rows += [r[:-2] + [r[-2] + note, r[-1]] for r in claim_rows(sd)]
        rows += [r[:-2] + [at["declared at"] + note, at["computed at"]] for r in transfer_rows(sd)]
        if old is not None:
            for r in claim_rows(old) + [r[:-2] + [oat["declared at"], oat["computed at"]] for r in transfer_rows(old)]:
                r[2] += f" (first design: {FIRST_DESIGN})"
                rows.append(r)
    return rows + cost_rows(data)


