"""The signal EMA recursion of the shared loop (tandem_ref/loop.py): s_0 = x_0, then
s_t = b s_{t-1} + (1 - b) x_t, where x_t is the raw signal and b = signal_ema. Every LM suite runs
TANDEM with b = 0.8; T6.6 checks only the fixed point (which any convex combination keeps), so
this pins the recursion itself with a signal whose raw values are known."""

import numpy as np
import pytest

from tandem_ref import QuadraticProblem
from tandem_ref.loop import LoopSpec, advance, start, trace_of
from tandem_ref.schedules import NoReference
from tandem_ref.signals import Signal
from tandem_ref.updates import make_update


class Scripted(Signal):
    """Returns x_t = (t + 1) * e_{t mod m} + 0.5 at update t: no two steps alike."""

    uses_reference = False

    def __call__(self, ctx):
        m = len(ctx.alpha)
        x = np.full(m, 0.5)
        x[ctx.t % m] += ctx.t + 1
        return x, {}


@pytest.mark.parametrize("b", [0.8, 0.3])
def test_logged_scores_follow_the_ema_recursion(b):
    problem = QuadraticProblem.random(m=3, d=4, seed=0)
    spec = LoopSpec(NoReference(episode=1), Scripted(), make_update("mirror", 0.1), signal_ema=b)
    st = advance(problem, spec, start(problem, spec, budget=6, seed=0))
    scores = trace_of(st, spec, "scripted", {}, problem.domains).scores
    raw = [Scripted()(type("C", (), {"alpha": np.zeros(3), "t": t})())[0] for t in range(6)]
    want = [raw[0]]
    for x in raw[1:]:
        want.append(b * want[-1] + (1 - b) * x)
    np.testing.assert_allclose(scores, np.array(want), rtol=1e-15, atol=0)
