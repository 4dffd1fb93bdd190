"""ODM, Aioli and Skill-It on the shared loop: their update rules by hand, their documented behaviour,
invariances and bitwise resume."""

import math

import numpy as np
import pytest

from tandem_ref import QuadraticProblem, get_method, load_state, save_state
from tandem_ref.context import LoopContext
from tandem_ref.methods.aioli import LearnParams
from tandem_ref.simplex import mirror_step, uniform

FAST = {"odm": {}, "aioli": {"update_steps": 24, "lp_rounds": 2, "lp_steps": 2},
        "skill-it": {"update_steps": 10, "graph_steps": 20}}


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


# --- ODM ---------------------------------------------------------------------------------------

def odm_by_hand(rule, losses, pi0, smoothing=0.9):
    """research/peer_rules.md section 3, from the recorded rewards (every domain observed, E = 1)."""
    K = len(pi0)
    R, eps, pi, out = np.zeros(K), 1.0 / K, pi0.copy(), []
    for t, L in enumerate(losses, start=1):
        eps_prev, eps = eps, min(1 / K, math.sqrt(math.log(K) / (K * t)))
        if rule == "smoothed-mean":
            R = smoothing * R + (1 - smoothing) * np.exp(L)
            pi = (1 - K * eps) * R / R.sum() + eps
        else:
            R = R + L / 10 / pi if rule == "exp3" else smoothing * R + (1 - smoothing) * L / pi
            pi = (1 - K * eps) * softmax(eps_prev * R) + eps
        out.append(pi)
    return np.array(out)


@pytest.mark.parametrize("rule", ["smoothed-mean", "exp3", "paper"])
def test_odm_follows_its_code(family_a, rule):
    t = get_method("odm", rule=rule).run(family_a, 40, 0)
    # the reward is the proxy's training loss at the start of each step
    u = family_a.init_state(0)
    np.testing.assert_allclose(t.scores[0], family_a.losses_at(u), rtol=1e-14)
    np.testing.assert_allclose(t.alpha, odm_by_hand(rule, t.scores, np.array([0.2, 0.3, 0.5])), rtol=1e-12)
    assert t.cost["grad_steps"] == 40 and t.cost["forward_evals"] == 0  # the reward rides on the step


def test_odm_weights_track_the_domain_with_the_largest_loss():
    """ODM up-weights the domains whose training loss is largest: once exploration has decayed
    (eps_t < 1/K) the mixture is ordered exactly as the smoothed reward R_i = EMA of exp(L_i), and the domain
    whose loss is largest at the start (far from the others) ends with the most weight. Up-weighting it
    lowers its loss, so it does not stay the largest on every step (measured: 78% of the late steps)."""
    p = QuadraticProblem.random(m=4, d=5, aniso=3.0, pert=0.5, seed=2)
    p.c[1] *= 3.0  # domain 1 sits far from the others
    p.Hc = np.einsum("mij,mj->mi", p.H, p.c)
    t = get_method("odm", smoothing=0.5).run(p, 400, 0)
    R, order_ok = np.zeros(4), []
    for i, L in enumerate(t.scores):
        R = 0.5 * R + 0.5 * np.exp(L)
        if i >= 10:
            order_ok.append(np.array_equal(np.argsort(t.alpha[i]), np.argsort(R)))
    assert all(order_ok)
    assert np.argmax(t.scores[0]) == 1 and np.argmax(t.alpha[-1]) == 1
    assert np.mean(np.argmax(t.alpha[50:], axis=1) == 1) > 0.95
    assert t.alpha[-1, 1] > 0.4 > t.alpha[0, 1]


def test_odm_warmup_keeps_the_initial_mixture_and_draws_observe_a_subset(family_a):
    t = get_method("odm", warmup=10).run(family_a, 30, 0)
    assert np.array_equal(t.alpha[:10], np.tile([0.2, 0.3, 0.5], (10, 1)))
    assert not np.allclose(t.alpha[-1], [0.2, 0.3, 0.5])
    # the first update after the warm-up uses eps_{W+1} (the code's iteration counts warm-up steps)
    assert t.alpha[10].min() >= min(1 / 3, math.sqrt(math.log(3) / (3 * 11))) - 1e-15
    d = get_method("odm", draws=1, rule="exp3").run(family_a, 30, 0)
    assert np.isclose(d.alpha.sum(axis=1), 1).all() and not np.allclose(d.alpha[-1], t.alpha[-1])


# --- Aioli ---------------------------------------------------------------------------------------

def learn_params_once(p, theta0, lr, f, target="domains"):
    k = len(p.domains)
    ctx = LoopContext(p, uniform(k), np.random.default_rng(0), 0, proxy_lr=lr)
    ctx.proxy = theta0.copy()
    LearnParams(k, 1, 1, f, target, False, k).refresh(ctx)
    return ctx.memory["A"]


@pytest.mark.parametrize("f", [1.0, 0.625])
def test_linear_mixing_law_one_step_residual_scales_as_eta_squared(family_a, f):
    """research/theory.md T6.7: one GD step of size eta on mixture p changes L_i by
    -eta sum_j p_j <grad L_i, grad L_j> + O(eta^2), so the A^t that Aioli's LearnParams estimates from one-step
    segments is eta Gram + O(eta^2) (also through the smoothed one-hots, A = G P^-1): slope +2 in eta."""
    theta0 = family_a.init_state(1)
    G = family_a.grads_at(theta0)
    gram = G @ G.T
    etas = family_a.lr * np.logspace(-3, -1.5, 5)
    res = [np.abs(learn_params_once(family_a, theta0, eta, f) - eta * gram).max() for eta in etas]
    slope = np.polyfit(np.log(etas), np.log(res), 1)[0]
    assert abs(slope - 2.0) < 0.1, slope


def test_aioli_steps_follow_its_code(family_a):
    """No EMA: p <- p exp(eta sum_i A_ij) / Z (cumulative). EMA: p = softmax(eta sum_i Abar_ij) from uniform.
    With normalisation the column sums of A are a probability vector. LearnParams is inside the round."""
    kw = dict(update_steps=30, lp_rounds=2, lp_steps=3, eta=0.7)
    t = get_method("aioli", ema=None, **kw).run(family_a, 150, 0)
    assert len(t.steps) == 5 and t.cost["grad_steps"] == 150
    assert np.allclose(t.scores.sum(axis=1), 1) and np.all(t.scores >= 0)
    prev = uniform(3)
    for a, s in zip(t.alpha, t.scores):
        np.testing.assert_allclose(a, mirror_step(prev, s, 0.7), rtol=1e-12)
        prev = a
    e = get_method("aioli", ema=0.5, **kw).run(family_a, 150, 0)
    for a, s in zip(e.alpha, e.scores):
        np.testing.assert_allclose(a, softmax(0.7 * s), rtol=1e-12)
    assert t.cost["forward_evals"] == 5 * (2 * 3 + 1)  # a val loss before LearnParams and after each segment


# --- Skill-It --------------------------------------------------------------------------------------

def test_skill_it_graph_and_first_updates_by_hand(family_a):
    """A_i = (L_val(theta_0) - L_val(theta_i)) / L_val(theta_0), theta_i = graph_steps steps on e_i;
    p_0 ~ exp(eta A 1) (nothing measured yet); with the code's lag, p_1 ~ exp(eta A L_val(theta_0))."""
    t = get_method("skill-it", update_steps=10, graph_steps=25, eta=2.0).run(family_a, 30, 4)
    th0 = family_a.init_state(4)
    L0 = family_a.val_loss_at(th0)
    Li = np.array([family_a.val_loss_at(family_a.step(th0, e, 25)) for e in np.eye(3)])
    A = (L0 - Li) / L0
    np.testing.assert_allclose(t.alpha[0], softmax(2.0 * A), rtol=1e-12)
    np.testing.assert_allclose(t.alpha[1], softmax(2.0 * A * L0), rtol=1e-12)
    assert t.cost["grad_steps"] == 30 + 3 * 25  # the graph's probe runs are charged
    assert np.argmax(t.alpha[0]) == np.argmax(A)


def test_skill_it_prefers_the_skill_that_lowers_the_target():
    """Realizable problem, validation = domain 0 (beta = e_0): training on domain 0 lowers L_val most, and
    Skill-It puts most of the mass on it."""
    p = QuadraticProblem.random(m=3, d=6, aniso=2.0, pert=0.0, seed=1, beta=[1.0, 0.0, 0.0])
    t = get_method("skill-it", update_steps=20, graph_steps=50, eta=5.0, lagged=False).run(p, 200, 0)
    assert np.argmax(t.output) == 0 and t.output[0] > 0.5


# --- shared invariances --------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(FAST))
def test_permuting_domains_permutes_the_output(family_a, permuted, name):
    perm = [2, 0, 1]
    a = get_method(name, **FAST[name]).run(family_a, 120, 3)
    b = get_method(name, **FAST[name]).run(permuted(family_a, perm), 120, 3)
    np.testing.assert_allclose(b.alpha, a.alpha[:, perm], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.output, a.output[perm], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", list(FAST))
@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_stop_and_resume_is_bitwise_identical(family_a, tmp_path, name, noise):
    make = lambda: QuadraticProblem(family_a.H, family_a.c, family_a.V, family_a.theta_val,  # noqa: E731
                                    sizes=family_a.sizes, noise=noise)
    params = dict(FAST[name], **({"draws": 2, "rule": "exp3"} if name == "odm" else {}))
    m = get_method(name, **params)
    full = m.run(make(), 120, 9)
    p = make()
    st = m.advance(p, m.start(p, 120, 9), stop_after=3)
    save_state(p, st, tmp_path / "state.npz")
    fresh = make()
    resumed = m.advance(fresh, load_state(fresh, tmp_path / "state.npz"))
    assert m.trace(fresh, resumed).equal(full)
    assert sorted(resumed.memory) == sorted(st.memory) and len(resumed.memory) > 0


def test_each_signal_logs_its_own_diagnostics_under_its_own_names():
    """The loop keeps what every signal reports at each update (not only TANDEM's columns): TANDEM's
    penalty gap, DoGE's per-domain alignments, Aioli's interaction matrix."""
    from tandem_ref import QuadraticProblem, get_method

    p = QuadraticProblem.random(m=3, d=4, seed=0)
    runs = {name: get_method(name, **kw).run(p, 60, 0) for name, kw in
            (("tandem", {}), ("doge", {}), ("aioli", {"update_steps": 24, "lp_rounds": 1, "lp_steps": 2}))}
    t = runs["tandem"]
    assert set(t.diagnostics) == {"penalty_gap"}
    np.testing.assert_array_equal(t.diagnostics["penalty_gap"], t.penalty_gap)
    d = runs["doge"]
    assert d.diagnostics["alignment"].shape == (len(d.steps), 3)
    a = runs["aioli"]
    assert a.diagnostics["A"].shape[0] == len(a.steps) and a.diagnostics["A"].shape[-1] == 3
