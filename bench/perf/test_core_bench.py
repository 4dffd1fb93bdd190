"""Speed of the shared loop: one TANDEM episode against the plain steps it is made of.

Absolute times on shared machines vary from run to run, so each benchmark also records a ratio
measured in the same run (``extra_info``): the episode's time over the time of the E + K plain
gradient steps it performs (E proxy steps, K reference steps), each timed plainly alongside."""

import time

import numpy as np

from tandem_ref import QuadraticProblem, get_method


def _plain_step_seconds(problem, state, alpha, reps=2000):
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(reps):
            problem.step(state, alpha, 1)
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def test_tandem_episode_vs_plain_steps(benchmark):
    p = QuadraticProblem.random(m=8, d=64, aniso=10.0, pert=1.0, seed=0)
    m = get_method("tandem", episode=5, probe=4)
    st = m.start(p, budget=10**9, seed=0)

    benchmark.pedantic(lambda: m.advance(p, st, stop_after=1), rounds=200, iterations=5, warmup_rounds=20)
    plain = _plain_step_seconds(p, st.proxy, np.full(8, 1 / 8))
    episode = benchmark.stats.stats.min
    ratio = episode / (9 * plain)  # 5 proxy + 4 reference steps
    benchmark.extra_info.update({"plain_step_s": plain, "episode_s": episode, "ratio_to_plain_steps": ratio})
    print(f"\nTANDEM episode {episode * 1e6:.1f} us = {ratio:.2f} x its 9 plain steps ({plain * 1e6:.2f} us each)")
