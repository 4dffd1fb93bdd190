"""tandem-bench theory optimum: agreement with an independent solver, and one-line errors on malformed specs."""

import json

import numpy as np
import pytest
from scipy.optimize import minimize, minimize_scalar

from bench.cli import main
from theory.families import make


def _run(tmp_path, spec, *args, capsys):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec) if not isinstance(spec, str) else spec)
    rc = main(["theory", "optimum", str(path), "--compact", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def _slsqp(spec):
    """An independent solver: SLSQP on F(alpha) = L_val(theta*(alpha)) written from the spec's arrays."""
    H, c, V, tv = (np.asarray(spec[k], dtype=float) for k in ("H", "c", "V", "theta_val"))
    m = len(H)

    def F(a):
        th = np.linalg.solve(np.einsum("m,mij->ij", a, H), np.einsum("m,mij,mj->i", a, H, c))
        return 0.5 * (th - tv) @ V @ (th - tv)

    best = None
    for a0 in [np.full(m, 1 / m)] + list(np.eye(m) * 0.8 + 0.2 / m):
        r = minimize(F, a0, method="SLSQP", bounds=[(0, 1)] * m,
                     constraints=[{"type": "eq", "fun": lambda a: a.sum() - 1}],
                     options={"ftol": 1e-16, "maxiter": 500})
        if best is None or r.fun < best.fun:
            best = r
    return best.x, best.fun


@pytest.mark.parametrize("seed", range(5))
def test_family_A_agrees_with_slsqp(tmp_path, capsys, seed):
    rng = np.random.default_rng(100 + seed)
    p = make("quadratic", 100 + seed, m=3, d=5, aniso=float(rng.uniform(1, 10)), pert=float(rng.uniform(0, 2)))
    spec = {"family": "quadratic", "domains": ["x", "y", "z"], "H": p.H.tolist(), "c": p.c.tolist(),
            "V": p.V.tolist(), "theta_val": p.theta_val.tolist()}
    rc, out, _ = _run(tmp_path, spec, capsys=capsys)
    assert rc == 0
    got = json.loads(out)
    a_ind, f_ind = _slsqp(spec)
    assert got["domains"] == ["x", "y", "z"] and got["fw_gap"] < 1e-9
    assert np.abs(np.array(got["alpha"]) - a_ind).max() < 1e-6
    assert got["F"] <= f_ind + 1e-12


@pytest.mark.parametrize("delta,s,kappa", [(1.0, 0.05, 0.1), (0.1, 0.05, 0.25), (1.0, 0.5, 0.05), (0.3, 0.2, 0.7),
                                           (2.0, 0.01, 0.02)])
def test_family_C2_agrees_with_scalar_search(tmp_path, capsys, delta, s, kappa):
    rc, out, _ = _run(tmp_path, {"family": "budget_repetition", "delta": delta, "s": s, "kappa": kappa},
                      capsys=capsys)
    assert rc == 0
    got = json.loads(out)
    F = lambda a: 0.5 * delta * (a - 0.5) ** 2 + 0.5 * s * (a + max(1 - a, (1 - a) ** 2 / kappa))
    a_ind = minimize_scalar(F, bounds=(0, 1), method="bounded", options={"xatol": 1e-12}).x
    assert abs(got["alpha"][0] - a_ind) < 1e-6 and abs(sum(got["alpha"]) - 1) < 1e-12
    assert abs(got["F"] - F(got["alpha"][0])) < 1e-12


def test_method_option_adds_scores(tmp_path, capsys):
    rc, out, _ = _run(tmp_path, {"family": "budget_repetition", "delta": 1.0, "s": 0.05, "kappa": 0.1}, "--method",
                      "tandem", "--budget", "500", capsys=capsys)
    assert rc == 0
    got = json.loads(out)["method"]
    assert got["name"] == "tandem" and set(got["scores"]) == {"l1", "regret", "gain_captured", "fw_gap"}


GOOD = {"family": "quadratic", "H": [[[2, 0], [0, 1]], [[1, 0], [0, 3]]], "c": [[0, 0], [1, 1]],
        "V": [[1, 0], [0, 1]], "theta_val": [0.5, 0.2]}

BAD = [
    ({**GOOD, "family": "nope"}, "family"),
    ({k: v for k, v in GOOD.items() if k != "family"}, "family"),
    ({k: v for k, v in GOOD.items() if k != "V"}, "V"),
    ({k: v for k, v in GOOD.items() if k != "H"}, "H"),
    ({**GOOD, "H": [[[2, 1], [0, 1]], [[1, 0], [0, 3]]]}, "H[0]"),  # not symmetric
    ({**GOOD, "H": [[[1, 2], [2, 1]], [[1, 0], [0, 3]]]}, "H[0]"),  # indefinite
    ({**GOOD, "H": [[[1, 0, 0], [0, 1, 0]], [[1, 0], [0, 3]]]}, "H"),  # ragged
    ({**GOOD, "c": [[0, 0]]}, "c"),
    ({**GOOD, "V": [[1, 0], [0, -1]]}, "V"),
    ({**GOOD, "theta_val": [1, 2, 3]}, "theta_val"),
    ({**GOOD, "ridge": -1}, "ridge"),
    ({**GOOD, "domains": ["a"]}, "domains"),
    ({**GOOD, "extra": 1}, "extra"),
    ({"family": "budget_repetition", "delta": 1.0, "s": 0.05}, "kappa"),
    ({"family": "budget_repetition", "delta": -1.0, "s": 0.05, "kappa": 0.1}, "delta"),
    ({"family": "budget_repetition", "delta": 1.0, "s": "x", "kappa": 0.1}, "s"),
    ({"family": "imbalanced", "seed": 0, "params": {"bogus": 1}}, "bogus"),
    ({"family": "imbalanced", "seed": -1}, "seed"),
    ("{not json", "spec.json"),
    ([1, 2], "spec"),
    ({"family": "quadratic", "params": {"m": "3"}}, "params.m"),
    ({"family": "quadratic", "params": {"m": 2.5}}, "params.m"),
    ({"family": "quadratic", "params": {"beta": [0.5, float("nan"), 0.2]}}, "params.beta"),
    ({"family": "quadratic", "params": {"pert": "big"}}, "params.pert"),
    # sizes above the documented limit (bench/commands/theory.py, measured): refused in well under a second
    ({"family": "quadratic", "params": {"m": 300, "d": 4}}, "m: 300 domains"),
    ({"family": "quadratic", "params": {"m": 3, "d": 1000}}, "d: dimension 1000"),
]


@pytest.mark.parametrize("spec,field", BAD, ids=[f for _, f in BAD])
def test_malformed_spec_exits_2_naming_the_field(tmp_path, capsys, spec, field):
    rc, out, err = _run(tmp_path, spec, capsys=capsys)
    assert rc == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and field in lines[0]


@pytest.mark.parametrize("args,field", [(["--method", "nope"], "nope"), (["--method", "tandem", "--params", "{x"],
                                                                        "--params"),
                                        (["--method", "tandem", "--params", '{"bogus": 1}'], "bogus"),
                                        (["--method", "tandem", "--budget", "0"], "--budget")])
def test_bad_method_options_exit_2(tmp_path, capsys, args, field):
    rc, out, err = _run(tmp_path, {"family": "budget_repetition", "delta": 1.0, "s": 0.05, "kappa": 0.1}, *args,
                        capsys=capsys)
    assert rc == 2 and out == "" and len(err.strip().splitlines()) == 1 and field in err


def test_a_spec_that_is_not_utf8_exits_2(capsys, tmp_path):
    path = tmp_path / "bin.json"
    path.write_bytes(b"\xff\xfe{\x00")
    assert main(["theory", "optimum", str(path)]) == 2
    err = capsys.readouterr().err
    assert "not UTF-8" in err and err.count("\n") == 1


def test_missing_file_exits_2(capsys, tmp_path):
    assert main(["theory", "optimum", str(tmp_path / "none.json")]) == 2
    assert "none.json" in capsys.readouterr().err
