"""The five methods on the shared loop: fidelity to their sources and invariances."""

import numpy as np
import pytest

from tandem_ref import BadInput, QuadraticProblem, UnknownName, get_method, load_state, make_schedule, method_names
from tandem_ref.simplex import mirror_step, smooth, uniform

ONLINE = ["doremi", "doge", "tandem"]


def converged_at_zero_problem(gamma_seed=0, aniso=5.0):
    """A quadratic whose inner solution at uniform alpha is exactly 0 (ridge 0): c_3 is chosen so that
    sum_i H_i c_i = 0. Starting the proxy at 0 puts it at its best response with no rounding error."""
    base = QuadraticProblem.random(m=3, d=6, aniso=aniso, pert=1.5, seed=gamma_seed)
    H, c = base.H, base.c.copy()
    c[2] = -np.linalg.solve(H[2], H[0] @ c[0] + H[1] @ c[1])
    return QuadraticProblem(H, c, base.V, base.theta_val, init_scale=0.0)


def test_tandem_k1_is_doge_alignment_at_large_gamma():
    """research/theory.md 3.2: with K = 1 the twins differ by -(eta/gamma) grad L_val, so
    gamma (L_i(u_1) - L_i(w_1)) = eta <grad L_i, grad L_val> + O(eta^2 / gamma). DoGE's plain rule
    (no normalisation, no clipping) scores eta <grad L_i, grad L_val>."""
    p = converged_at_zero_problem()
    gamma = 1e9  # relative bias ~ eta |H| / (2 gamma) ~ 1e-10, well below the 1e-8 asked
    t = get_method("tandem", episode=1, probe=1, gamma=gamma, update="mirror").run(p, budget=1, seed=0)
    d = get_method("doge", normalize=False, dw_min=None, dw_max=None, max_grad_norm=None).run(p, budget=1, seed=0)
    assert np.all(np.abs(d.scores[0]) > 1e-3)
    np.testing.assert_allclose(t.scores[0], d.scores[0], rtol=1e-8, atol=0)


def test_identical_twins_leave_the_mixture_unchanged_exactly(quad):
    """theory.md T0.4: a reference given no extra data is the proxy, so the signal is exactly 0."""
    for update in ("projected", "mirror"):
        t = get_method("tandem", reference_data="train", update=update).run(quad, budget=200, seed=1)
        assert np.array_equal(t.scores, np.zeros_like(t.scores))
        assert np.array_equal(t.output, uniform(3))
        assert np.array_equal(t.twin_distance, np.zeros_like(t.twin_distance))
    noisy = QuadraticProblem(quad.H, quad.c, quad.V, quad.theta_val, noise=0.5)  # common random numbers
    t = get_method("tandem", reference_data="train").run(noisy, budget=200, seed=1)
    assert np.array_equal(t.output, uniform(3))


def test_doremi_is_validation_agnostic(quad):
    """theory.md 7 (i): the static reference never sees L_val, so nothing downstream does."""
    other = QuadraticProblem(quad.H, quad.c, 3.0 * np.eye(6), np.arange(6.0), sizes=quad.sizes, lr=quad.lr)
    a = get_method("doremi").run(quad, budget=300, seed=2)
    b = get_method("doremi").run(other, budget=300, seed=2)
    assert np.array_equal(a.output, b.output)
    assert not np.allclose(a.output, uniform(3))  # it did move


def test_doremi_follows_its_reference_code(quad):
    """One update by hand: lambda = max(L(u_0) - L(w_ref), 0); alpha_1 = (1-c) softmax(log a_0 + eta lambda) + c/k;
    the returned average includes alpha_0 (research/peer_rules.md section 1)."""
    m = get_method("doremi", reference_steps=50)
    t = m.run(quad, budget=1, seed=4)
    u0 = quad.init_state(4)
    w = quad.step(quad.init_state(4), uniform(3), 50, rng=np.random.default_rng([4, 0x5EF]))
    lam = np.maximum(quad.losses_at(u0) - quad.losses_at(w), 0)
    a1 = smooth(mirror_step(uniform(3), lam, 1.0), 1e-3)
    np.testing.assert_allclose(t.alpha[0], a1, rtol=1e-12)
    np.testing.assert_allclose(t.output, (uniform(3) + a1) / 2, rtol=1e-12)
    assert t.cost["grad_steps"] == 51  # 50 reference steps + 1 proxy step


def test_doge_follows_its_code(quad):
    """W_i = eta S_i / (mean ||g|| + 1e-6) clipped to [0, 5 eta]; alpha = softmax(log alpha + W/mu);
    the average excludes alpha_0 (research/peer_rules.md section 2)."""
    t = get_method("doge", mu=0.05, max_grad_norm=None).run(quad, budget=1, seed=5)
    u0 = quad.init_state(5)
    G = quad.grads_at(u0)
    S = G @ quad.val_grad_at(u0)
    W = np.clip(quad.lr * S / (np.linalg.norm(G, axis=1).mean() + 1e-6), 0, 5 * quad.lr)
    a1 = mirror_step(uniform(3), W, 1 / 0.05)
    np.testing.assert_allclose(t.alpha[0], a1, rtol=1e-12)
    np.testing.assert_allclose(t.output, a1, rtol=1e-12)


def test_tandem_episode_structure_and_cost(quad):
    """E = 5 proxy steps per update of which K = 4 are the probe; the reference adds K steps per update."""
    t = get_method("tandem", episode=5, probe=4).run(quad, budget=100, seed=0)
    assert len(t.steps) == 20 and list(t.steps[:3]) == [5, 10, 15]
    assert t.cost["grad_steps"] == 100 + 20 * 4
    assert np.all(t.twin_distance > 0)
    assert np.all(t.penalty_gap >= -1e-12)  # P = sum alpha_i (L_i(w) - L_i(u)) >= 0 (theory.md section 6)
    t2 = get_method("tandem", episode=5, probe=4, probe_in_episode=False).run(quad, budget=90, seed=0)
    assert list(t2.steps[:2]) == [9, 18]


def test_tandem_finds_beta_on_a_realizable_problem():
    """theory.md P5: when the validation loss is the beta-mixture of the domains, alpha* = beta for every
    gamma, and the twin signal vanishes there. TANDEM started from uniform must get there."""
    beta = np.array([0.6, 0.3, 0.1])
    p = QuadraticProblem.random(m=3, d=6, aniso=3.0, pert=0.0, seed=7, beta=beta)
    assert np.abs(uniform(3) - beta).sum() > 0.5
    for update in ("projected", "mirror"):
        for gamma in (1.0, 100.0):
            t = get_method("tandem", update=update, eta_alpha=0.1, gamma=gamma).run(p, budget=20000, seed=0)
            np.testing.assert_allclose(t.output, beta, atol=1e-8)
    # A too-large mixture step makes the linearised map unstable (theory.md 3.4): a 2-cycle, not beta.
    t = get_method("tandem", update="mirror", eta_alpha=0.5, gamma=100.0).run(p, budget=20000, seed=0)
    assert np.abs(t.alpha[-1] - t.alpha[-2]).sum() > 0.1 and np.allclose(t.alpha[-1], t.alpha[-3])


@pytest.mark.parametrize("name", ["uniform", "natural", "doremi", "doge", "tandem"])
def test_permuting_domains_permutes_the_output(quad, permuted, name):
    # DoGE at its default mu = 0.01 bounces between vertices on this problem and is chaotic: a 1e-15
    # relative change of theta_val moves its output by 3.5e-3 (test below), so summation order alone
    # breaks equivariance there; at mu = 0.05 (its OOD configs) the map is stable.
    params = {"mu": 0.05} if name == "doge" else {}
    perm = [2, 0, 1]
    a = get_method(name, **params).run(quad, budget=150, seed=3)
    b = get_method(name, **params).run(permuted(quad, perm), budget=150, seed=3)
    np.testing.assert_allclose(b.output, a.output[perm], rtol=1e-9, atol=1e-12)
    assert b.domains == [quad.domains[i] for i in perm]


@pytest.mark.parametrize("name", ONLINE)
@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_stop_and_resume_is_bitwise_identical(quad, tmp_path, name, noise):
    p = QuadraticProblem(quad.H, quad.c, quad.V, quad.theta_val, sizes=quad.sizes, noise=noise)
    m = get_method(name)
    full = m.run(p, budget=120, seed=9)
    st = m.advance(p, m.start(p, budget=120, seed=9), stop_after=7)
    path = tmp_path / "state.npz"
    from tandem_ref import save_state
    save_state(p, st, path)
    fresh = QuadraticProblem(quad.H, quad.c, quad.V, quad.theta_val, sizes=quad.sizes, noise=noise)
    resumed = m.advance(fresh, load_state(fresh, path))
    assert m.trace(fresh, resumed).equal(full)
    assert [f.name for f in tmp_path.iterdir()] == ["state.npz"]  # no temporary file left


def test_every_schedule_runs_through_tandem(quad):
    for schedule in ("twin-reset", "persistent", "stale", "ema"):
        t = get_method("tandem", schedule=schedule, update="mirror").run(quad, budget=100, seed=0)
        assert np.isclose(t.output.sum(), 1) and np.all(t.output >= 0)


def test_doge_default_step_is_chaotic_on_family_a(quad):
    """DoGE's universal config (mu = 0.01) amplifies a 1e-15 relative perturbation to a visible change of
    the returned mixture: the weights jump between vertices (anchors.md complaint 3, unstable weights)."""
    other = QuadraticProblem(quad.H, quad.c, quad.V, quad.theta_val * (1 + 1e-15), lr=quad.lr)
    a = get_method("doge").run(quad, 150, 3)
    b = get_method("doge").run(other, 150, 3)
    assert np.abs(a.output - b.output).max() > 1e-4
    assert a.alpha.max(axis=1).mean() > 0.9  # near a vertex most of the time


def test_ema_reference_is_a_negative_control(quad):
    """An EMA of the proxy carries no validation information (theory.md section 7)."""
    other = QuadraticProblem(quad.H, quad.c, 3.0 * np.eye(6), np.arange(6.0), lr=quad.lr)
    a = get_method("tandem", schedule="ema", update="mirror").run(quad, budget=200, seed=0)
    b = get_method("tandem", schedule="ema", update="mirror").run(other, budget=200, seed=0)
    assert np.array_equal(a.output, b.output)


def test_natural_needs_sizes(quad):
    np.testing.assert_allclose(get_method("natural").run(quad, 1).output, [0.1, 0.3, 0.6])
    bare = QuadraticProblem(quad.H, quad.c, quad.V, quad.theta_val)
    with pytest.raises(BadInput, match="no domain sizes"):
        get_method("natural").run(bare, 1)


def test_names_and_parameters_are_checked():
    assert method_names()[:5] == ["uniform", "natural", "doremi", "doge", "tandem"]
    with pytest.raises(UnknownName, match="unknown method 'doremy'.*doremi"):
        get_method("doremy")
    with pytest.raises(UnknownName, match="unknown schedule 'twin'"):
        make_schedule("twin")
    with pytest.raises(BadInput, match="unknown parameter 'gama'"):
        get_method("tandem", gama=2.0)
    with pytest.raises(BadInput, match="'gamma' must be a positive number"):
        get_method("tandem", gamma=float("nan"))
    with pytest.raises(BadInput, match="'schedule' must be one of"):
        get_method("tandem", schedule="static")
    with pytest.raises(BadInput, match="probe: K = 6 exceeds the episode"):
        get_method("tandem", episode=5, probe=6).run(QuadraticProblem.random(), budget=10)
    with pytest.raises(BadInput, match="reference_mixture"):
        get_method("doremi", reference_mixture=[0.5, 0.6, -0.1]).run(QuadraticProblem.random(), budget=10)
    with pytest.raises(BadInput, match="budget"):
        get_method("tandem").run(QuadraticProblem.random(), budget=0)
