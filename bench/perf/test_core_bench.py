"""Speed of the shared loop: one TANDEM episode against the plain steps it is made of.

The ideal episode is E proxy steps + K reference steps + the twin-gap evaluation; its ratio to
E + K plain gradient steps, each timed plainly in the same run, is what the gate compares.
``TANDEM_BENCH_SLOWDOWN`` (seconds) adds a sleep to every step of the episode: the gate's own
test uses it to check that a deliberately slowed step fails the gate."""

import os
import time

import numpy as np

from tandem_ref import QuadraticProblem, get_method

from .timing import min_times

SLOWDOWN = float(os.environ.get("TANDEM_BENCH_SLOWDOWN", "0"))


class _Slowed(QuadraticProblem):
    def step(self, *a, **kw):
        time.sleep(SLOWDOWN)
        return super().step(*a, **kw)


def test_tandem_episode_vs_plain_steps(benchmark, record_ratio):
    base = QuadraticProblem.random(m=8, d=64, aniso=10.0, pert=1.0, seed=0)
    p = _Slowed(base.H, base.c, base.V, base.theta_val) if SLOWDOWN else base
    m = get_method("tandem", episode=5, probe=4)
    st = m.start(p, budget=10**9, seed=0)
    alpha = np.full(8, 1 / 8)

    def plain():  # 9 plain steps of the unslowed problem: what the episode's steps cost at best
        for _ in range(9):
            QuadraticProblem.step(p, st.proxy, alpha, 1)

    # interleaved round by round, min of 40 (each side 5 calls a round): load hits both alike
    t = min_times({"episode": lambda: m.advance(p, st, stop_after=1), "plain": plain}, rounds=40, inner=5)
    benchmark.pedantic(lambda: m.advance(p, st, stop_after=1), rounds=1, iterations=1)
    record_ratio("tandem_episode_quadratic_M8_d64", t["episode"] / t["plain"], target=None, seconds=t["episode"],
                 note="5 proxy + 4 reference steps + twin gap, against 9 plain steps (interleaved)")
