"""The stochastic mode: mini-batch noise in steps, losses and signals, deterministic per seed."""

import numpy as np

from tandem_ref.registry import get_method
from theory.families import make


def test_stochastic_runs_are_deterministic_functions_of_the_seed():
    p = make("quadratic", 3, pert=1.5, noise=1.0)
    a = get_method("tandem").run(p, 300, 7).output
    b = get_method("tandem").run(make("quadratic", 3, pert=1.5, noise=1.0), 300, 7).output
    c = get_method("tandem").run(p, 300, 8).output
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_noise_enters_losses_signals_and_steps_with_the_right_scale():
    p = make("quadratic", 0, noise=0.5)
    q = make("quadratic", 0)
    th = np.ones(6)
    rng = np.random.default_rng(0)
    gaps = np.stack([-p.paired_losses(th, th + 0.1, rng=rng).diff for _ in range(4000)])
    exact_gap = -q.paired_losses(th, th + 0.1).diff
    # xi_i^T delta with ||delta|| = 0.1 sqrt(6): std 0.5 * 0.1 * sqrt(6)
    assert np.allclose(gaps.mean(axis=0), exact_gap, atol=0.01)
    assert np.allclose(gaps.std(axis=0), 0.5 * 0.1 * np.sqrt(6), rtol=0.05)
    assert np.array_equal(-p.paired_losses(th, th + 0.1).diff, exact_gap)  # no rng: the population loss
    steps = np.stack([p.step(th, [0.2, 0.3, 0.5], 1, lr=1.0, rng=rng) for _ in range(4000)])
    mean_step = q.step(th, [0.2, 0.3, 0.5], 1, lr=1.0)
    assert np.allclose(steps.mean(axis=0), mean_step, atol=0.02)
    assert np.allclose(steps.std(axis=0), 0.5 * np.linalg.norm([0.2, 0.3, 0.5]), rtol=0.05)


def test_every_family_has_a_stochastic_mode():
    for fam, kw in (("budget_repetition", {}), ("tabular", dict(m=5, k=3)), ("imbalanced", {})):
        p = make(fam, 0, noise=0.3, **kw)
        out = get_method("doge").run(p, 30, 1).output
        assert np.all(np.isfinite(out))
