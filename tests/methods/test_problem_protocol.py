"""The Problem protocol is narrow and generic: states, a training step and four measurements
(training losses, validation loss, paired losses, per-domain gradient geometry). No method of it
serves one mixer only; the signals compute TANDEM's gap, DoReMi's excess loss and DoGE's alignments."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from tandem_ref.problem import PairedLosses, Problem
from tandem_ref.signals import ClippedExcess, TwinGap
from theory.families import make
from theory.stochastic import stochastic

STATES = {"init_state", "copy", "distance", "interpolate", "state_arrays", "state_from_arrays"}
MEASUREMENTS = {"train_losses", "val_loss", "paired_losses", "domain_grads"}


def test_the_protocol_is_states_a_step_and_four_generic_measurements():
    methods = {n for n, f in inspect.getmembers(Problem, inspect.isfunction) if not n.startswith("_")}
    assert methods == STATES | MEASUREMENTS | {"step", "fingerprint"}


def test_paired_losses_are_one_call_with_the_proxy_first_in_every_problem():
    """One argument order everywhere: paired_losses(u = proxy, w = reference)."""
    import bench.lm.problem
    import tandem_ref.problem

    for cls in (tandem_ref.problem.VectorProblem, bench.lm.problem.LMProblem):
        params = list(inspect.signature(cls.paired_losses).parameters)
        assert params[:3] == ["self", "u", "w"], cls


@pytest.mark.parametrize("family", ["quadratic", "logistic"])
def test_paired_losses_diff_is_the_loss_difference_and_excess_its_positive_part(family):
    p = make(family, 0)
    w = p.init_state(0)
    u = p.step(w, np.eye(len(p.domains))[0], 5)  # twins apart: the proxy trained on one domain
    paired = p.paired_losses(u, w)
    assert np.all(paired.diff != 0)
    naive = p.losses_at(u) - p.losses_at(w)
    assert np.allclose(paired.diff, naive, rtol=1e-10, atol=1e-12)
    assert np.array_equal(paired.excess, np.maximum(paired.diff, 0.0))
    assert np.allclose(p.paired_losses(w, u).diff, -paired.diff, rtol=1e-12, atol=1e-14)  # antisymmetric


def test_the_quadratic_gap_is_free_of_cancellation_where_subtraction_is_not():
    """Twins 1e-9 apart: L(u) - L(w) = O(1e-9); subtracting two O(1) losses keeps ~7 digits of it,
    the closed form (delta = w - u) keeps them all (research/theory.md section 9)."""
    p = make("quadratic", 0)
    u = p.init_state(0)
    d = np.linspace(1.0, 2.0, len(u))
    w = u + 1e-9 * d
    exact = -(p.grads_at(u) @ (w - u) + 0.5 * np.einsum("i,mij,j->m", w - u, p.H, w - u))
    assert np.allclose(p.paired_losses(u, w).diff, exact, rtol=1e-12, atol=0)


class _Ctx:
    def __init__(self, problem, u, w, alpha):
        self.problem, self.proxy, self.reference, self.alpha = problem, u, w, alpha
        self.rng, self.memory = None, {}


def test_signals_are_computed_from_paired_losses():
    p = make("quadratic", 0)
    u, w = p.init_state(0), p.init_state(1)
    alpha = np.full(len(p.domains), 1 / len(p.domains))
    paired = p.paired_losses(u, w)
    score, info = TwinGap(gamma=2.0)(_Ctx(p, u, w, alpha))
    assert np.array_equal(score, 2.0 * paired.diff)  # -gamma Delta with Delta = L(w) - L(u)
    assert info["penalty_gap"] == pytest.approx(-float(alpha @ paired.diff))
    lam, _ = ClippedExcess()(_Ctx(p, u, w, alpha))
    assert np.array_equal(lam, paired.excess)
    raw, _ = ClippedExcess(clip=False)(_Ctx(p, u, w, alpha))
    assert np.array_equal(raw, paired.diff)


def test_stochastic_paired_losses_share_one_draw_between_gap_and_excess():
    p = stochastic(make("quadratic", 0), 0.3)
    u, w = p.init_state(0), p.init_state(1)
    a = p.paired_losses(u, w, rng=np.random.default_rng(5))
    assert isinstance(a, PairedLosses)
    assert np.array_equal(a.excess, np.maximum(a.diff, 0.0))
    assert not np.allclose(a.diff, p.paired_losses(u, w).diff)  # the batch noise is there
    b = p.paired_losses(u, w, rng=np.random.default_rng(5))
    assert np.array_equal(a.diff, b.diff)  # and it is a function of the rng
