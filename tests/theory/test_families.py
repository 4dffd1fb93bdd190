"""Every family is a tandem_ref Problem: it builds from a seed and from a JSON spec, has a certified optimum,
and every registered method runs on it unchanged."""

import json

import numpy as np
import pytest

from bench.problems import PROBLEMS, print_listing
from tandem_ref.problem import Problem
from tandem_ref.registry import default_method_names, get_method
from theory import exact, scores
from theory.families import FAMILIES, from_spec, make

SMALL = {"logistic": dict(n=(60, 60, 60), n_val=120, d=4), "tabular": dict(m=6, k=3, n=(300, 300, 100))}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_is_a_problem_with_a_certified_optimum(family):
    p = make(family, 1, **SMALL.get(family, {}))
    assert isinstance(p, Problem)
    opt = exact.optimum(p)
    assert opt.fw_gap < 1e-9 and opt.certified
    assert abs(opt.alpha.sum() - 1) < 1e-12 and opt.alpha.min() >= 0
    assert abs(exact.F(p, opt.alpha) - opt.F) < 1e-12
    unif = np.full(len(p.domains), 1 / len(p.domains))
    assert exact.F(p, unif) >= opt.F - 1e-12
    if len(p.domains) <= 3:
        assert opt.grid_checked


# offline methods train many probe models per run: run them on a few families only, to keep the suite fast
# (mixing-laws took 200 s on a 40-step budget on Family A when this was written: reported to its owner)
OFFLINE = {"regmix": ("quadratic", "budget_repetition"), "random-search": ("quadratic", "tabular"),
           "mixing-laws": ()}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_method_runs_unchanged(family):
    p = make(family, 0, **SMALL.get(family, {}))
    opt = exact.optimum(p)
    for name in default_method_names():
        if (name == "natural" and p.sizes is None) or family not in OFFLINE.get(name, (family,)):
            continue
        out = get_method(name).run(p, 40, 0).output
        assert np.all(np.isfinite(out)) and abs(out.sum() - 1) < 1e-9
        sc = scores.score(p, out, opt)
        assert sc["regret"] >= -1e-12 and sc["l1"] >= 0 and sc["fw_gap"] >= 0


def test_seeded_families_are_deterministic_and_seed_dependent():
    a, b, c = make("quadratic", 5, pert=1.0), make("quadratic", 5, pert=1.0), make("quadratic", 6, pert=1.0)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_generated_spec_form_round_trips():
    p = from_spec({"family": "imbalanced", "seed": 2, "params": {"r": 8.0, "expected": True}})
    q = make("imbalanced", 2, r=8.0, expected=True)
    assert p.fingerprint() == q.fingerprint()


def test_quadratic_spec_form():
    p = make("quadratic", 0, pert=1.0)
    spec = {"family": "quadratic", "domains": ["a", "b", "c"], "H": p.H.tolist(), "c": p.c.tolist(),
            "V": p.V.tolist(), "theta_val": p.theta_val.tolist()}
    q = from_spec(json.loads(json.dumps(spec)))
    assert q.domains == ("a", "b", "c")
    assert np.allclose(exact.optimum(q).alpha, exact.optimum(p).alpha, atol=1e-10)


def test_budget_spec_closed_form():
    p = from_spec({"family": "budget_repetition", "delta": 1.0, "s": 0.05, "kappa": 0.1})
    a_l = (0.5 + 0.05 * (10 - 0.5)) / (1 + 0.5)
    assert np.allclose(exact.optimum(p).alpha, [min(a_l, 0.9), 1 - min(a_l, 0.9)], atol=1e-12)


def test_budget_lifted_problem_reproduces_closed_form():
    p = make("budget_repetition", 0, delta=0.3, s=[0.05, 0.08], kappa=0.2)
    for a in np.linspace(0.01, 0.99, 23):
        alpha = np.array([a, 1 - a])
        assert abs(p.val_loss_at(p.inner_solution(alpha)) - p.F_closed(alpha)) < 1e-14


def test_two_stage_is_the_single_stage_problem_with_metric_StVS():
    p = make("two_stage", 3, ft_rank=2)
    rng = np.random.default_rng(0)
    for _ in range(5):
        a = rng.dirichlet(np.ones(3))
        th = exact.theta_star(p, a)
        ft = p.S @ th + (np.eye(6) - p.S) @ p.theta_val  # fine-tune towards the target
        r = ft - p.theta_val
        assert abs(exact.F(p, a) - 0.5 * r @ p.V_target @ r) < 1e-10


def test_tabular_population_alpha_star_is_beta():
    p = make("tabular", 0, m=8, k=3, n=(1, 1, 1), tau=0.0, population=True, beta=[0.5, 0.3, 0.2])
    assert np.allclose(exact.optimum(p).alpha, [0.5, 0.3, 0.2], atol=1e-7)


def test_listing(capsys):
    print_listing("problems")
    out = capsys.readouterr().out.splitlines()
    names = [line.split()[0] for line in out[1:]]
    assert out[0] == "problems:" and names == list(FAMILIES) + [n for n in PROBLEMS if n not in FAMILIES]
    print_listing("methods")
    assert capsys.readouterr().out == ""


def test_scores_gain_captured_undefined_when_no_gain():
    p = make("balanced", 0)
    sc = scores.score(p, np.full(3, 1 / 3))
    assert np.isnan(sc["gain_captured"]) and abs(sc["regret"]) < 1e-12 and sc["l1"] < 1e-9
    q = make("quadratic", 3, pert=1.5)
    opt = exact.optimum(q)
    assert scores.score(q, opt.alpha, opt)["gain_captured"] == pytest.approx(1.0)
    assert scores.score(q, np.full(3, 1 / 3), opt)["gain_captured"] == pytest.approx(0.0, abs=1e-12)


def test_tabular_and_logistic_array_specs_match_generated_instances():
    p = make("tabular", 0, m=5, k=3, n=(300, 300, 100))
    counts = np.rint(p.e * p.sizes[:, None, None]).tolist()
    q = from_spec({"family": "tabular", "counts": counts, "p_val": p.e_val.tolist(), "tau": 1e-4})
    assert np.allclose(exact.optimum(q).alpha, exact.optimum(p).alpha, atol=1e-9)
    L = make("logistic", 0, n=(40, 40, 40), n_val=60, d=3)
    spec = {"family": "logistic", "X": [X[:, :-1].tolist() for X in L.Xs], "y": [Y.argmax(1).tolist() for Y in L.Ys],
            "X_val": L.Xv[:, :-1].tolist(), "y_val": L.Yv.argmax(1).tolist()}
    r = from_spec(json.loads(json.dumps(spec)))
    assert np.allclose(exact.optimum(r).alpha, exact.optimum(L).alpha, atol=1e-9)


@pytest.mark.parametrize("spec,field", [
    ({"family": "tabular", "counts": [[[1, 2]], [[0, 1]]], "p_val": [[0.5, 0.6]]}, "p_val"),
    ({"family": "tabular", "counts": [[[1, -2]], [[0, 1]]], "p_val": [[0.5, 0.5]]}, "counts"),
    ({"family": "tabular", "counts": [[[1, 2]], [[0, 1]]], "p_val": [[0.5, 0.5], [0, 0]]}, "p_val"),
    ({"family": "logistic", "X": [[[0.0, 1.0]]], "y": [[0, 1]], "X_val": [[1.0, 0.0]], "y_val": [0]}, "X[0]"),
    ({"family": "logistic", "X": [[[0.0, 1.0]]], "y": [[0]], "X_val": [[1.0, 0.0]], "y_val": [0], "rho": 0}, "rho"),
    ({"family": "two_stage", "H": [[[1.0]]], "c": [[0.0]], "V": [[1.0]], "theta_val": [0.0], "S": [[1, 0]]}, "S"),
])
def test_malformed_array_specs_name_the_field(spec, field):
    from tandem_ref.errors import BadInput

    with pytest.raises(BadInput, match=field.replace("[", r"\[").replace("]", r"\]")):
        from_spec(spec)


def test_schedule_fixed_points():
    p = make("balanced", 0, beta=[0.5, 0.3, 0.2], shared_curvature=False)
    beta = np.array([0.5, 0.3, 0.2])
    for sched, kw in (("exact-twins", dict(lam=10.0)), ("twin-reset", dict(lam=10.0, K=3)), ("lookahead", {}),
                      ("val-only", {}), ("twin-reset", dict(K=2))):
        assert np.allclose(exact.schedule_fixed_point(p, sched, **kw).alpha, beta, atol=1e-8), sched
    assert np.allclose(exact.schedule_fixed_point(p, "static").alpha, 1 / 3, atol=1e-8)


def test_B1_needs_the_shared_regulariser():
    """B1: with the inner ridge also in L_val, uniform is optimal; without it, uniform is off by O(rho)."""
    from tandem_ref.quadratic import QuadraticProblem

    offs = []
    for ridge in (0.1, 0.01):
        p = make("balanced", 2, ridge=ridge, shared_curvature=False)
        assert np.allclose(exact.optimum(p).alpha, 1 / 3, atol=1e-9)
        Vn = p.V - ridge * np.eye(6)  # the same validation mixture without the regulariser
        q = QuadraticProblem(p.H, p.c, Vn, np.linalg.solve(Vn, Vn @ p.theta_val + ridge * p.theta_val), ridge=ridge)
        offs.append(np.abs(exact.optimum(q).alpha - 1 / 3).sum())
    assert offs[0] > 1e-4 and 5 < offs[0] / offs[1] < 20  # O(rho)
