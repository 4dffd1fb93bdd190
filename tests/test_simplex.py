"""Projection, exponentiated-gradient step, smoothing, averaging, validation."""

import numpy as np
import pytest
from scipy.optimize import minimize

from tandem_ref import BadInput, mirror_step, project_simplex, projected_step, smooth, validate_mixture
from tandem_ref.simplex import RunningAverage


def on_simplex(a, tol=1e-12):
    return np.all(a >= 0) and abs(a.sum() - 1) <= tol


def kkt_holds(v, p, tol=1e-10):
    # p = Pi(v) iff there is theta with p_i = max(v_i - theta, 0): v_i - p_i = theta on the support,
    # v_i <= theta off it.
    support = p > 0
    theta = np.mean(v[support] - p[support])
    return np.allclose(v[support] - p[support], theta, atol=tol) and np.all(v[~support] <= theta + tol)


@pytest.mark.parametrize("m", [1, 2, 3, 7, 50])
def test_projection_random_vectors_satisfy_kkt(m):
    rng = np.random.default_rng(m)
    for _ in range(50):
        v = rng.normal(scale=rng.choice([0.01, 1, 100]), size=m)
        p = project_simplex(v)
        assert on_simplex(p)
        assert kkt_holds(v, p)
        assert np.array_equal(project_simplex(p), p) or np.allclose(project_simplex(p), p, atol=1e-15)


def test_projection_matches_a_generic_qp_solver():
    rng = np.random.default_rng(0)
    for _ in range(10):
        v = rng.normal(size=5)
        res = minimize(lambda x: 0.5 * np.sum((x - v) ** 2), np.full(5, 0.2), jac=lambda x: x - v,
                       bounds=[(0, None)] * 5, constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1}],
                       method="SLSQP", options={"ftol": 1e-14, "maxiter": 500})
        assert np.allclose(project_simplex(v), res.x, atol=1e-7)


def test_projection_edge_cases():
    assert np.array_equal(project_simplex([5.0]), [1.0])  # one domain
    assert np.allclose(project_simplex([0.0, 0.0, 0.0]), [1 / 3] * 3)  # zeros
    assert np.allclose(project_simplex([2.0, 2.0, -1.0]), [0.5, 0.5, 0.0])  # ties
    p = project_simplex([1e300, 1e300, 0.0])  # huge values: no overflow, ties kept
    assert np.allclose(p, [0.5, 0.5, 0.0])
    p = project_simplex([1e300, -1e300])
    assert np.array_equal(p, [1.0, 0.0])
    a = np.array([0.2, 0.3, 0.5])
    assert np.allclose(project_simplex(a), a, atol=1e-16)  # a point of the simplex is fixed
    assert np.allclose(project_simplex(a + 7.0), a)  # shift invariance
    with pytest.raises(BadInput):
        project_simplex([np.nan, 1.0])
    with pytest.raises(BadInput):
        project_simplex([])


def test_mirror_step_properties():
    rng = np.random.default_rng(1)
    a = rng.dirichlet(np.ones(6))
    s = rng.normal(size=6)
    b = mirror_step(a, s, 0.3)
    assert on_simplex(b)
    assert np.allclose(b, a * np.exp(0.3 * s) / np.sum(a * np.exp(0.3 * s)), rtol=1e-13)
    assert np.allclose(mirror_step(a, s + 100.0, 0.3), b, rtol=1e-12)  # invariant to shifting the score
    assert np.allclose(mirror_step(a, s, 0.0), a, rtol=1e-15)  # eta = 0 is the identity
    z = mirror_step([0.0, 0.5, 0.5], [100.0, 0.0, 0.0], 1.0)  # a zero weight stays zero
    assert z[0] == 0.0 and np.allclose(z[1:], 0.5)
    h = mirror_step([0.5, 0.5], [1e300, 0.0], 1.0)  # huge scores: no overflow, no NaN
    assert np.array_equal(h, [1.0, 0.0])
    assert np.array_equal(mirror_step([1.0], [3.0], 2.0), [1.0])  # one domain
    t = mirror_step([0.25] * 4, [1.0, 1.0, 0.0, 0.0], 0.7)  # ties stay tied
    assert t[0] == t[1] and t[2] == t[3]
    with pytest.raises(BadInput):
        mirror_step(a, np.full(6, np.nan), 1.0)


def test_projected_step_and_smoothing():
    a = np.array([0.5, 0.5, 0.0])
    assert np.allclose(projected_step(a, [1.0, -1.0, 0.0], 0.1), [0.6, 0.4, 0.0])
    assert np.allclose(smooth([1.0, 0.0], 1e-3), [1 - 1e-3 + 5e-4, 5e-4])
    assert on_simplex(smooth(np.array([0.1, 0.9]), 0.3))


def test_running_average_equals_mean():
    rng = np.random.default_rng(2)
    xs = rng.dirichlet(np.ones(4), size=37)
    avg = RunningAverage(4)
    for x in xs:
        avg.add(x)
    assert np.allclose(avg.value(xs[0]), xs.mean(axis=0), rtol=1e-13)


@pytest.mark.parametrize("bad, message", [
    ([0.5, np.nan, 0.5], "weight for domain 'b' is NaN"),
    ([0.5, np.inf, 0.5], "weight for domain 'b' is infinite"),
    ([1.2, -0.2, 0.0], "weight for domain 'b' is negative"),
    ([0.5, 0.4, 0.0], "sum to"),
    ([0.5, 0.5], "2 weights for 3 domains"),
    ({"a": 0.5, "b": 0.5}, "no weight for domain 'c'"),
    ({"a": 0.5, "b": 0.5, "c": 0.0, "z": 0.0}, "unknown domain 'z'"),
    (["x", 1, 0], "must be numbers"),
    ([], "non-empty"),
])
def test_bad_mixtures_name_what_is_wrong(bad, message):
    with pytest.raises(BadInput, match=message) as e:
        validate_mixture(bad, ["a", "b", "c"])
    assert "\n" not in str(e.value)


def test_valid_mixtures_pass_within_1e9():
    assert np.allclose(validate_mixture({"b": 0.25, "a": 0.75}, ["a", "b"]), [0.75, 0.25])
    validate_mixture([0.5, 0.5 + 5e-10], ["a", "b"])
    with pytest.raises(BadInput):
        validate_mixture([0.5, 0.5 + 2e-9], ["a", "b"])
