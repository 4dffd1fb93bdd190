"""The statistics that decide the LM claims, against closed forms computed here."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from bench.evidence import stats
from bench.evidence import verdicts as report


def test_t_interval_is_the_student_interval():
    v = np.array([0.1, -0.2, 0.05, 0.3, -0.1])
    m, lo, hi, n = stats.t_interval(v)
    half = st.t.ppf(0.975, 4) * v.std(ddof=1) / math.sqrt(5)
    assert n == 5 and m == pytest.approx(v.mean()) and lo == pytest.approx(m - half) and hi == pytest.approx(m + half)
    assert stats.t_interval([np.nan, 1.0])[3] == 1 and math.isnan(stats.t_interval([1.0])[1])


@pytest.mark.parametrize("n", [5, 8, 30])
def test_mde_has_exactly_80_percent_power(n):
    sd = 0.02
    d = stats.mde(sd, n)
    nc, crit = d * math.sqrt(n) / sd, st.t.ppf(0.975, n - 1)
    power = st.nct.sf(crit, n - 1, nc) + st.nct.cdf(-crit, n - 1, nc)
    assert power == pytest.approx(0.8, abs=1e-9)


def test_mde_approaches_the_normal_closed_form_and_shrinks_with_n():
    sd, n = 1.0, 2000
    normal = (st.norm.ppf(0.975) + st.norm.ppf(0.8)) * sd / math.sqrt(n)  # 2.8016 sd / sqrt(n)
    assert stats.mde(sd, n) == pytest.approx(normal, rel=2e-3)
    assert stats.mde(sd, 5) > stats.mde(sd, 8) > stats.mde(sd, 30)
    assert stats.mde(2 * sd, 8) == pytest.approx(2 * stats.mde(sd, 8))  # linear in the spread
    assert stats.mde(sd, 3) > 0  # df = 2: the bracket of the root is found


def test_paired_and_superiority_both_ways():
    rng = np.random.default_rng(0)
    better = -0.05 + 0.005 * rng.standard_normal(6)
    worse = 0.05 + 0.005 * rng.standard_normal(6)
    noise = 0.05 * rng.standard_normal(6)
    assert stats.superiority(stats.paired(better)) == "holds"
    assert stats.superiority(stats.paired(worse)) == "contradicted"
    p = stats.paired(noise - noise.mean())  # mean exactly 0: never decided
    assert stats.superiority(p) == "inconclusive" and p.mde == pytest.approx(stats.mde(p.sd, 6))


def test_tost_matches_two_hand_computed_one_sided_tests():
    v = np.array([0.004, -0.002, 0.001, 0.003, -0.001, 0.0])
    margin = 0.01
    ok, p, certified = stats.tost(v, margin)
    m, se = v.mean(), v.std(ddof=1) / math.sqrt(6)
    p_hand = max(st.t.sf((m + margin) / se, 5), st.t.cdf((m - margin) / se, 5))
    assert ok and p == pytest.approx(p_hand)
    assert certified == pytest.approx(abs(m) + st.t.ppf(0.95, 5) * se)
    # equivalence <=> the 90% interval lies inside the margins
    lo, hi = stats.t_interval(v, 0.90)[1:3]
    assert (-margin < lo and hi < margin) == ok
    assert not stats.tost(v + 0.02, margin)[0]  # a shift beyond the margin
    assert not stats.tost(np.array([0.03, -0.03, 0.02, -0.02]), margin)[0]  # too noisy to certify


def test_ratio_of_means_is_deterministic_and_covers_a_constant_ratio():
    a, b = np.array([2.0, 4.0, 6.0, 8.0]), np.array([1.0, 2.0, 3.0, 4.0])
    r, lo, hi, n = stats.ratio_of_means(a, b)
    assert (r, lo, hi, n) == (2.0, 2.0, 2.0, 4)
    x = stats.ratio_of_means(a + np.array([0.1, -0.3, 0.2, 0.0]), b)
    assert x == stats.ratio_of_means(a + np.array([0.1, -0.3, 0.2, 0.0]), b) and x[1] < x[0] < x[2]


def test_printed_precision_follows_the_interval():
    assert stats.decimals_for(0.013) == 2 and stats.decimals_for(0.0042) == 3 and stats.decimals_for(0.4) == 1
    assert stats.fmt_interval(-0.05234, -0.0612, -0.0436) == "−0.052 [−0.061, −0.044]"
    assert stats.fmt(-0.0001, 2) == "0.00"


def test_steps_to_interpolates_linearly_between_logged_points():
    steps = np.array([50.0, 100.0, 150.0])
    assert report.steps_to(steps, np.array([3.0, 2.0, 1.0]), 1.5) == pytest.approx(125.0)
    assert report.steps_to(steps, np.array([1.0, 0.9, 0.8]), 1.2) == 50.0  # reached at the first point
    assert report.steps_to(steps, np.array([3.0, 2.0, 1.8]), 1.5) == math.inf


def _table(effects: dict[str, float], spread: float, seeds: int = 6, suite: str = "lm-restricted",
           profile: str = "lm", curves: dict | None = None) -> pd.DataFrame:
    """A synthetic tidy table of a deciding LM suite: per seed a shared level plus each method's
    effect plus independent noise of sd ``spread``."""
    rng = np.random.default_rng(1)
    rows = []
    for s in range(seeds):
        level = 2.3 + 0.1 * rng.standard_normal()  # the seed effect the pairing removes
        for m, e in {"uniform": 0.0, **effects}.items():
            r = {"suite": suite, "profile": profile, "study": suite, "problem": "p", "method": m,
                 "method_name": "fixed", "seed": s, "final": True, "status": "ok",
                 "avg_loss": level + e + spread * rng.standard_normal(), "avg_ppl": 10.0,
                 "cost.flops": 1e12 if m == "tandem" else 0.0, "stage_two.flops_per_step": 1e9}
            for step, v in (curves or {}).get(m, {}).items():
                r[f"curve.{step:06d}"] = v
            rows.append(r)
    return pd.DataFrame(rows)


def test_lm2_verdicts_can_fail_both_ways_and_print_the_mde():
    holds = report.claim_rows("lm-restricted@lm", _table({"tandem": -0.08, "natural": 0.05}, 0.005),
                              manifest={"profile": "lm"})
    assert [r[6] for r in holds] == ["holds", "holds"]
    contra = report.claim_rows("lm-restricted@lm", _table({"tandem": 0.08, "natural": 0.0}, 0.005),
                               manifest={"profile": "lm"})
    assert contra[0][6] == "contradicted"
    undecided = report.claim_rows("lm-restricted@lm", _table({"tandem": 0.0, "natural": 0.0}, 0.03),
                                  manifest={"profile": "lm"})
    assert undecided[0][6].startswith("inconclusive (MDE ") and "the paper's 3.4%" in undecided[0][6]
    smoke = report.claim_rows("lm-restricted", _table({"tandem": -0.08, "natural": 0.05}, 0.005, profile="quick"),
                              manifest={"profile": "quick"})
    assert smoke[0][6] == "smoke run: holds"


def test_lm1_is_an_equivalence_decision_against_the_declared_margin():
    manifest = {"profile": "lm", "report": {"margin": 0.01}}  # 1% of about 2.3 nats: 0.023
    t = _table({"tandem": 0.002, "doremi": -0.06, "natural": 0.2}, 0.004, suite="lm-abundant")
    rows = {r[2].split(": ")[1]: r for r in report.claim_rows("lm-abundant@lm", t, manifest=manifest)}
    assert rows["tandem"][6] == "holds" and "TOST equivalent" in rows["tandem"][5]
    assert rows["doremi"][6] == "contradicted"  # beats uniform by more than the margin
    assert rows["natural"][6] == "holds" and "not equivalent" in rows["natural"][5]  # worse: uniform not beaten
    noisy = report.claim_rows("lm-abundant@lm", _table({"tandem": -0.02}, 0.05, suite="lm-abundant"),
                              manifest=manifest)
    assert noisy[0][6].startswith("inconclusive (certifies a margin of")


def test_lm5_ratio_of_steps_to_uniforms_final_loss():
    steps = [100, 200, 300, 400]
    uni = dict(zip(steps, [3.0, 2.6, 2.4, 2.3]))
    fast = dict(zip(steps, [2.8, 2.3, 2.1, 2.0]))  # reaches 2.3 at step 200: ratio 0.5
    t = _table({"tandem": -0.1, "natural": 0.0}, 0.001, curves={"uniform": uni, "tandem": fast})
    (r, lo, hi, n), flops = report.convergence(t, "tandem")
    assert n == 6 and r == pytest.approx(0.5) and hi < 1
    # FLOPs: 200 steps at 1e9 plus the mixer's 1e12, over uniform's 400 steps at 1e9
    assert flops[0] == pytest.approx((200 * 1e9 + 1e12) / (400 * 1e9))
    rows = report.claim_rows("lm-restricted@lm", t, manifest={"profile": "lm"})
    assert rows[-1][0] == "LM-5" and rows[-1][6] == "holds"


def test_every_lm_claim_names_a_suite_whose_reported_study_exists():
    """LM claims are typed records naming their suite: a renamed suite or study fails here instead of
    silently dropping its claim from the report."""
    from bench.evidence.claims import LM5_SUITES, LM_CLAIMS, claim_of
    from bench.suites import load, suite_names

    for claim in LM_CLAIMS.values():
        assert claim.suite in suite_names(), claim
        assert claim.suite in {s.name for s in load(claim.suite).studies}, f"{claim.id}: no study {claim.suite!r}"
        assert claim_of(f"{claim.suite}@lm") is claim
        assert claim.column in ("avg", "target") and (claim.subject is None) == (not claim.comparators)
    assert set(LM5_SUITES) <= {c.suite for c in LM_CLAIMS.values()}
    assert claim_of("methods") is None


def test_a_row_whose_interval_excludes_the_papers_effect_says_so():
    """LM-4's paper effect is -10%: an interval around 0 of +-1.5% is inconclusive against 0 and
    excludes -10% (a smaller effect); an effect of -20% excludes it the other way; an interval that
    holds -10% excludes nothing."""
    near_zero = report.claim_rows("lm-sft@lm", _table({"tandem": 0.0}, 0.02, suite="lm-sft"),
                                  manifest={"profile": "lm"})[0][6]
    assert near_zero.startswith("inconclusive (MDE ") and near_zero.endswith(
        "; excludes the paper's −10.0% (smaller effect)")
    large = report.claim_rows("lm-sft@lm", _table({"tandem": -0.46}, 0.005, suite="lm-sft"),
                              manifest={"profile": "lm"})[0][6]
    assert large == "holds; excludes the paper's −10.0% (larger effect)"
    at_paper = report.claim_rows("lm-sft@lm", _table({"tandem": -0.23}, 0.02, suite="lm-sft"),
                                 manifest={"profile": "lm"})[0][6]
    assert at_paper == "holds"


def test_an_inconclusive_lm5_ratio_prints_what_it_could_have_detected():
    steps = [100, 200, 300, 400]
    uni = dict(zip(steps, [3.0, 2.6, 2.4, 2.3]))
    t = _table({"tandem": 0.0}, 0.001, curves={"uniform": uni, "tandem": uni})
    # per seed, TANDEM's curve 0.03 below or above uniform's: it reaches uniform's final loss a little
    # early, or not within the run (counted as the run plus one interval): a ratio near 1, undecided
    for k, i in enumerate(t.index[t["method"] == "tandem"]):
        for s in steps:
            t.loc[i, f"curve.{s:06d}"] += 0.03 if k % 2 else -0.03
    row = report.claim_rows("lm-restricted@lm", t, manifest={"profile": "lm"})[-1]
    assert row[0] == "LM-5" and row[6].startswith("inconclusive (MDE ") and "in the ratio" in row[6]
    (r, lo, hi, n), _ = report.convergence(t, "tandem")
    m = stats.mde_of_interval(lo, hi)
    assert m == pytest.approx((1.959964 + 0.841621) * (hi - lo) / (2 * 1.959964), rel=1e-6)
    assert f"MDE {stats.fmt(m, 2)} in the ratio" in row[6]


def test_claim_rows_say_when_their_design_was_declared_and_their_results_computed():
    """Every LM claim row ends with the commit that last changed its suite file before the sweep and the
    commit the sweep ran at (run.json); where the design changed after results were seen (LM-3: 6 ->
    10 seeds, effect declared later), the rows at the first design follow, on the first 6 seeds and
    without the effect it had not declared."""
    from bench.evidence import verdicts
    from bench.report.data import SuiteData
    from bench.tabulate import CLAIM_COLUMNS

    t = _table({"tandem": -0.02, "tandem-unaware": 0.0}, 0.01, seeds=10, suite="lm-multistage")
    t["loss.reference"] = t["avg_loss"]
    t["problem.val_weights"] = "reference"
    run = {"design_commit": "a" * 40, "git_commit": "b" * 40 + "+dirty"}
    sd = SuiteData("lm-multistage@lm", {"profile": "lm", "report": {"effect": 0.034}}, t, [], run)
    rows = verdicts.claims([sd])
    assert all(len(r) == len(CLAIM_COLUMNS) for r in rows)
    final = [r for r in rows if "first design" not in r[2]]
    first = [r for r in rows if "first design: 6 seeds" in r[2]]
    assert len(final) == len(first) == 2
    assert all(r[8] == "bbbbbbb+dirty" for r in rows)
    assert all(r[7] == "aaaaaaa (changed after results were seen; first design 83ebde0)" for r in final)
    assert all(r[7] == "83ebde0" for r in first)
    assert all("(n=10," in r[5] for r in final) and all("(n=6," in r[5] for r in first)
    # the first design's rows are the analysis of the first 6 seeds (0-5), not of any 6
    by_hand = verdicts.claim_rows("lm-multistage@lm", t[t["seed"] < 6], None, {"profile": "lm", "report": {}})
    assert [r[5:7] for r in first] == [r[5:7] for r in by_hand]
    assert not any("declared 3.4%" in r[6] for r in first)  # the effect was declared after the first run
    plain = SuiteData("lm-restricted@lm", {"profile": "lm"}, _table({"tandem": -0.08, "natural": 0.0}, 0.005), [], {})
    assert all(r[7:] == ["–", "–"] and "first design" not in r[2] for r in verdicts.claims([plain]))


def test_design_commit_is_the_last_commit_that_changed_the_suite_file():
    import re
    import subprocess
    from pathlib import Path

    from bench.provenance import design_commit

    root = Path(__file__).resolve().parents[2]
    path = root / "bench" / "suites" / "lm-multistage.toml"
    if subprocess.run(["git", "cat-file", "-e", "55b55f3^{commit}"], cwd=root, capture_output=True).returncode:
        pytest.skip("not a git checkout with the project's history (a shallow clone)")
    last = subprocess.run(["git", "log", "-1", "--format=%H", "--", str(path)], cwd=root, capture_output=True,
                          text=True).stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", design_commit(path)) and design_commit(path).startswith(last)
    assert design_commit(path, at="55b55f3") == "83ebde0776006bcf9bd80ad6833507acca07ac7b"


@pytest.mark.parametrize("best, edge", [(10.0, True), (3.0, False), (1.0, True)])
def test_a_tuned_value_at_the_edge_of_its_grid_is_flagged(best, edge):
    rows = []
    for v in (1.0, 3.0, 10.0):
        for s in (100, 101):
            rows.append({"suite": "lm-restricted", "study": "tune-tandem", "problem": "p", "method": "tandem-lm",
                         "method_name": "tandem", "seed": s, "final": True, "status": "ok", "avg_loss": 2.0,
                         "val_avg_loss": 2.0 + 0.01 * abs(np.log(v / best)) + 0.001 * s, "grid.method.eta_alpha": v,
                         "cost.flops": 1e12, "stage_two.flops": 1e12, "wall_s": 1.0})
    from bench.evidence.report import tuning_table

    _, out = tuning_table(pd.DataFrame(rows))
    chosen = [r for r in out if r[5].startswith("chosen")]
    assert len(chosen) == 1 and float(chosen[0][2]) == best
    assert ("grid edge: no extension declared" in chosen[0][5]) == edge
