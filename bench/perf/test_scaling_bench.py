"""How a TANDEM step's cost grows: with the number of domains M (tiny GPT) and with model size (CPU).

The step time is one episode's wall time over the proxy steps it advances; the growth exponent is
the least-squares slope of log time on log M (or log parameters). The tables go into
results/perf/summary.md; the ratio of the extreme points is guarded against regression."""

import numpy as np

from tandem_ref import get_method

from .lmsetup import growth_exponent, problem
from .timing import min_times

E, K = 5, 4


def _step_seconds(probs: dict) -> dict:
    """Seconds per proxy step of one TANDEM episode on each problem, the problems timed interleaved
    round by round (min of 5): a burst of load elsewhere hits every size alike, so their ratio holds."""
    episodes, per = {}, {}
    for key, p in probs.items():
        m = get_method("tandem", episode=E, probe=K)
        st = m.start(p, budget=10**9, seed=0)
        s0 = p.cost.grad_steps
        m.advance(p, st, stop_after=1)
        per[key] = st.steps  # proxy steps one episode advances (the reference's are extra work)
        assert p.cost.grad_steps > s0
        episodes[key] = (lambda m, p, st: lambda: m.advance(p, st, stop_after=1))(m, p, st)
    t = min_times(episodes, rounds=5)
    return {k: t[k] / per[k] for k in probs}


def _table(head, labels, ts, exponent) -> str:
    rows = [f"| {head} | step (ms) | vs first |", "|---|---|---|"]
    rows += [f"| {x} | {t * 1e3:.1f} | {t / ts[0]:.2f} |" for x, t in zip(labels, ts)]
    return "\n".join(rows) + f"\n\nFitted growth exponent: {exponent:.2f} (time ~ {head}^{exponent:.2f})\n"


def test_tandem_step_vs_domains(benchmark, record_ratio, record_section):
    ms = [4, 8, 16, 32]
    t = _step_seconds({m: problem(m) for m in ms})
    ts = [t[m] for m in ms]
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    k = growth_exponent(ms, ts)
    record_section("TANDEM step time against the number of domains (tiny GPT, 16 x 64 tokens, E=5, K=4)",
                   _table("M", ms, ts, k) + "\nThe training batch is 16 rows whatever M (stratified); the twin-gap "
                   "evaluation reads max(1, 16 // M) rows per domain, so its cost grows once M > 16.")
    record_ratio("tandem_step_M32_vs_M4", ts[-1] / ts[0], seconds=ts[-1], note=f"growth exponent in M: {k:.2f}")


def test_tandem_step_vs_model_size(benchmark, record_ratio, record_section):
    sizes = ["micro", "tiny", "small"]
    probs = [problem(4, model=s) for s in sizes]
    n = [p.trainer.n_params for p in probs]
    t = _step_seconds(dict(zip(sizes, probs)))
    ts = [t[s] for s in sizes]
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    k = growth_exponent(n, ts)
    record_section("TANDEM step time against model size (M=4, 16 x 64 tokens, CPU, one thread)",
                   _table("parameters", [f"{s} ({x:,})" for s, x in zip(sizes, n)], ts, k))
    record_ratio("tandem_step_small_vs_micro", ts[-1] / ts[0], seconds=ts[-1],
                 note=f"{n[-1] / n[0]:.1f}x the parameters; growth exponent {k:.2f}")
    assert np.all(np.isfinite(ts))
