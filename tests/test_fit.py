"""`tandem-bench fit` and tandem_ref.fit (issue 11): proxy runs you bring, a fit, its cross-validated diagnostics,
a proposed mixture. Tested where the truth is known (a controlled family: sampled mixtures, exact F, alpha*), on
RegMix's published proxy runs (../shared/research/external/regmix; skipped where ../shared is absent, CI has it),
and on malformed tables (exit 2, one line naming file, row and column, nothing written)."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from tandem_ref import fit as F
from tandem_ref.errors import BadInput

ROOT = Path(__file__).resolve().parents[1]
REGMIX = ROOT.parent / "shared" / "research" / "external" / "regmix"
needs_regmix = pytest.mark.skipif(not REGMIX.is_dir(), reason="../shared/research/external/regmix is absent")
PILE_CC = "metric/the_pile_pile_cc_val_loss"
# the token distribution of the 17 training domains (column order of train_mixture_1m.csv) that RegMix's regression
# code draws its simulations around for the Pile-CC target
PILE_PRIOR = [0.11328527, 0.07960865, 0.00391349, 0.1853759, 0.05108136, 0.01596293, 0.10175077, 0.00370752,
              0.06652935, 0.00175077, 0.02708548, 0.23686921, 0.01184346, 0.00792997, 0.00803296, 0.03882595,
              0.04644696]


def _write(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def _tables(folder, X, y, domains, ids=None, stem=""):
    ids = list(range(1, len(y) + 1)) if ids is None else ids
    rows = [[i, *(repr(float(v)) for v in x)] for i, x in zip(ids, X)]  # repr: every digit of the float
    mix = _write(folder / f"{stem}mixtures.csv", ["index", *domains], rows)
    losses = [[i, repr(float(v)), "x"] for i, v in zip(ids, y)]
    met = _write(folder / f"{stem}metrics.csv", ["index", "F", "other"], losses)
    return mix, met


def _run(argv, capsys):
    try:
        rc = main(argv)
    except SystemExit as e:  # argparse's usage errors
        rc = e.code
    out = capsys.readouterr()
    return rc, out.out, out.err


# --- a controlled family: the truth is known ---------------------------------------------------------------

@pytest.fixture(scope="module")
def family(tmp_path_factory):
    """Family A with m = 4 and an interior alpha* = (0.17, 0.60, 0.14, 0.09); 200 proxy runs at flat-Dirichlet
    mixtures, each "loss" the exact F(x) = L_val(theta*(x)), and 60 held-out runs."""
    from bench.problems import make_problem
    from theory import exact

    p = make_problem("quadratic", 0, {"m": 4, "pert": 1.0, "aniso": 4.0})
    opt = exact.optimum(p)
    assert opt.alpha.min() > 0.05  # interior
    folder = tmp_path_factory.mktemp("family")
    X = np.random.default_rng(7).dirichlet(np.ones(4), size=200)
    Xt = np.random.default_rng(8).dirichlet(np.ones(4), size=60)
    mix, met = _tables(folder, X, exact.F_many(p, X), p.domains)
    tmix, tmet = _tables(folder, Xt, exact.F_many(p, Xt), p.domains, stem="test_")
    F_u = exact.F(p, np.full(4, 0.25))
    share = lambda a: (F_u - exact.F(p, a)) / (F_u - opt.F)  # noqa: E731  share of the uniform-to-optimum gain
    return {"problem": p, "alpha": opt.alpha, "X": X, "y": exact.F_many(p, X), "share": share, "folder": folder,
            "args": ["--mixtures", str(mix), "--metrics", str(met), "--target", "F"],
            "test": ["--test-mixtures", str(tmix), "--test-metrics", str(tmet)]}


@pytest.mark.parametrize("method", ["regmix", "mixing-laws"])
def test_fit_command_finds_the_optimum_of_a_controlled_family(family, method, tmp_path, capsys):
    """Measured (seed 0): regmix captures 99% of the uniform-to-optimum gain (l1 to alpha* 0.09), mixing-laws 99.6%
    (l1 0.05); with 60 runs regmix captured 64%, so 200 are needed here."""
    out = tmp_path / "w.json"
    rc, stdout, err = _run(["fit", *family["args"], *family["test"], "--method", method, "--out", str(out),
                            "--simulations", "20000"], capsys)
    assert rc == 0, err
    res = json.loads(out.read_text())
    doms = list(family["problem"].domains)
    assert sorted(res["weights"]) == doms and res["method"] == method and res["target"] == "F"
    a = np.array([res["weights"][d] for d in doms])
    assert abs(a.sum() - 1) < 1e-9 and a.min() >= 0
    assert family["share"](a) > 0.9 and np.abs(a - family["alpha"]).sum() < 0.15, (a, family["alpha"])
    assert res["fit"]["cv"]["folds"] == 5 and res["fit"]["cv"]["spearman"] > 0.95
    assert res["test"]["runs"] == 60 and res["test"]["spearman"] > 0.95
    png = tmp_path / "w-fit.png"
    assert res["plot"] == png.name and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(f.name for f in tmp_path.iterdir()) == ["w-fit.png", "w.json"]
    assert "5-fold CV" in stdout and "held out" in stdout


def test_linear_baseline_cannot_find_an_interior_optimum(family):
    """RegMix's linear baseline is linear in x: its best simulated mixtures pile up at a vertex, and on this family
    that vertex is worse than uniform (measured share of the gain -1.3): the scoring above can tell them apart."""
    f = F.fit(family["X"], family["y"], "linear", domains=list(family["problem"].domains))
    a = F.propose(f, seed=0, simulations=20000)
    assert a.max() > 0.95 and family["share"](a) < 0


# --- the Python API, without a Problem --------------------------------------------------------------------

def test_api_fit_predict_propose_on_plain_arrays(family):
    X, y = family["X"][:80], family["y"][:80]
    f = F.fit(X, y, "mixing-laws", seed=3, starts=4)
    assert f.domains == ["d0", "d1", "d2", "d3"] and f.info["K"] == 4 and f.cv["runs"] == 80
    assert f.predict(X[:5]).shape == (5,) and F.predict(f, X[0]).shape == (1,)
    assert np.abs(f.cv_predictions - y).mean() == pytest.approx(f.cv["mae"])
    a = F.propose(f)
    assert a.shape == (4,) and abs(a.sum() - 1) < 1e-9
    assert F.predict(f, a)[0] <= F.predict(f, X).min() + 1e-9  # the law's argmin beats every run it was fitted on


def test_cross_validation_folds_are_seeded():
    X = np.random.default_rng(0).dirichlet(np.ones(3), size=40)
    y = (X ** 2).sum(axis=1)
    a, b = F.fit(X, y, "linear", seed=1), F.fit(X, y, "linear", seed=1)
    c = F.fit(X, y, "linear", seed=2)
    assert np.array_equal(a.cv_predictions, b.cv_predictions)
    assert not np.array_equal(a.cv_predictions, c.cv_predictions)
    folds = F.kfold(40, 5, 1)
    assert sorted(np.concatenate(folds).tolist()) == list(range(40)) and [len(h) for h in folds] == [8] * 5


def test_regmix_rounds_are_chosen_by_cross_validation_not_file_order():
    """A fixed number of rounds is taken as given; otherwise the k-fold curve chooses, and every row is trained on."""
    rng = np.random.default_rng(1)
    X = rng.dirichlet(np.ones(3), size=60)
    y = ((X - [0.5, 0.3, 0.2]) ** 2).sum(axis=1)
    fixed = F.fit(X, y, "regmix", rounds=7, folds=0)
    assert fixed.info["rounds"] == 7 and fixed.cv is None
    chosen = F.fit(X, y, "regmix", num_iterations=300)
    assert 1 <= chosen.info["rounds"] <= 300 and chosen.info["cv_l2"] <= chosen.info["cv_l2_at_max"]
    shuffled = F.fit(X[::-1], y[::-1], "regmix", rounds=chosen.info["rounds"], folds=0)
    same = F.fit(X, y, "regmix", rounds=chosen.info["rounds"], folds=0)
    np.testing.assert_allclose(same.predict(X), shuffled.predict(X), atol=1e-9)


@pytest.mark.parametrize("call, message", [
    (lambda X, y: F.fit(X, y, "ridge"), "expected one of"),
    (lambda X, y: F.fit(X, y, "regmix", depth=3), "unknown parameter 'depth'"),
    (lambda X, y: F.fit(X, y, "mixing-laws", starts=0), "'starts'"),
    (lambda X, y: F.fit(X, y, "regmix", folds=0), "rounds=N"),
    (lambda X, y: F.fit(X, y, "linear", folds=1), "folds"),
    (lambda X, y: F.fit(X[:2], y[:2], "linear", folds=0), "2 runs for 3 domains"),
    (lambda X, y: F.fit(np.where(X > 0.5, np.nan, X), y, "linear"), "finite"),
    (lambda X, y: F.fit(X, y[:-1], "linear"), "one per row"),
    (lambda X, y: F.propose(F.fit(X, y, "mixing-laws", starts=1, folds=0), prior=[1, 1, 1]), "no prior"),
    (lambda X, y: F.propose(F.fit(X, y, "linear", folds=0), prior=[1, -1, 1]), "prior"),
])
def test_api_refuses_bad_input_naming_it(call, message):
    X = np.random.default_rng(0).dirichlet(np.ones(3), size=20)
    with pytest.raises(BadInput, match=message):
        call(X, X[:, 0] ** 2)


# --- RegMix's published proxy runs ------------------------------------------------------------------------

def _regmix(name):
    return str(REGMIX / name)


def _load(mixtures, metrics):
    from tandem_ref.proxy_runs import read_runs

    return read_runs(_regmix(mixtures), _regmix(metrics), PILE_CC, min_runs=1)


@needs_regmix
def test_fit_command_on_regmix_runs_matches_its_notebook(tmp_path, capsys):
    """512 1M-parameter runs, 17 Pile domains, the Pile-CC loss. RegMix's notebook reaches Spearman 0.989 on the 256
    test mixtures by early-stopping on those same test mixtures; here the rounds come from 5-fold CV on the training
    table (measured: 1000, the cap, CV rho 0.983) and the test set is only scored (measured 0.9904)."""
    prior = tmp_path / "prior.json"
    train = _load("train_mixture_1m.csv", "train_pile_loss_1m.csv")
    prior.write_text(json.dumps(dict(zip(train.domains, PILE_PRIOR))))
    out = tmp_path / "weights.json"
    rc, stdout, err = _run(["fit", "--mixtures", _regmix("train_mixture_1m.csv"),
                            "--metrics", _regmix("train_pile_loss_1m.csv"), "--target", PILE_CC,
                            "--test-mixtures", _regmix("test_mixture_1m.csv"),
                            "--test-metrics", _regmix("test_pile_loss_1m.csv"),
                            "--prior", str(prior), "--simulations", "20000", "--out", str(out)], capsys)
    assert rc == 0, err
    res = json.loads(out.read_text())
    assert res["test"]["runs"] == 256 and res["test"]["spearman"] >= 0.989
    assert res["fit"]["runs"] == 512 and res["fit"]["cv"]["spearman"] > 0.98 and res["fit"]["rounds"] == 1000
    w = res["weights"]
    assert sorted(w) == sorted(train.domains) and abs(sum(w.values()) - 1) < 1e-9
    assert max(w, key=w.get) == "train_the_pile_pile_cc"  # the loss of Pile-CC is lowest when training on it
    assert res["predicted_loss"] < np.percentile(train.y, 5)
    assert (tmp_path / "weights-fit.png").exists()


@pytest.fixture(scope="module")
def regmix_runs():
    return {"train": _load("train_mixture_1m.csv", "train_pile_loss_1m.csv"),
            **{s: _load(f"test_mixture_{s}.csv", f"test_pile_loss_{s}.csv") for s in ("1m", "60m", "1B")}}


@needs_regmix
def test_regmix_fit_carries_to_larger_models(regmix_runs):
    """Fitted on 1M-parameter runs, ranking 60M and 1B runs (measured: 0.986 and 0.962; the 1B set is 64 runs)."""
    tr = regmix_runs["train"]
    f = F.fit(tr.X, tr.y, "regmix", domains=tr.domains, folds=0, rounds=1000)
    rho = {s: F.scores(regmix_runs[s].y, f.predict(regmix_runs[s].X))["spearman"] for s in ("1m", "60m", "1B")}
    assert rho["1m"] >= 0.989 and rho["60m"] >= 0.98 and rho["1B"] >= 0.95, rho


@needs_regmix
def test_linear_and_mixing_law_on_regmix_runs(regmix_runs):
    """The paper's linear baseline ranks the 1M test runs at 0.90 (measured 0.9016); the mixing law with K = 17
    implicit domains at 0.98 (measured 0.9845; its fit stops at the 1000-iteration cap, not converged)."""
    tr, te = regmix_runs["train"], regmix_runs["1m"]
    lin = F.fit(tr.X, tr.y, "linear", domains=tr.domains, folds=0)
    law = F.fit(tr.X, tr.y, "mixing-laws", domains=tr.domains, folds=0)
    r_lin = F.scores(te.y, lin.predict(te.X))["spearman"]
    r_law = F.scores(te.y, law.predict(te.X))["spearman"]
    assert 0.88 < r_lin < 0.92 and r_law >= 0.98, (r_lin, r_law)


# --- malformed input: exit 2, one line, nothing written ---------------------------------------------------

GOOD_X = [[0.5, 0.3, 0.2], [0.1, 0.1, 0.8], [0.2, 0.6, 0.2], [0.3, 0.3, 0.4], [0.6, 0.2, 0.2], [0.05, 0.9, 0.05]]


def _bad_case(folder, case):
    """Write the tables of a case; return (extra argv, the substrings the error must contain)."""
    doms = ["a", "b", "c"]
    rows = [[str(i + 1), *map(str, x)] for i, x in enumerate(GOOD_X)]
    met = [[str(i + 1), str(4.0 + i / 10), "x"] for i in range(6)]
    header, met_header = ["index", *doms], ["index", "loss", "note"]
    argv, expect = [], []
    if case == "sum":
        rows[2][1] = "0.1"
        expect = ["mixtures.csv", "row 3 (line 4)", "sum to 0.9", "'3'"]
    elif case == "missing":
        rows[1][2] = ""
        expect = ["mixtures.csv", "row 2 (line 3)", "column 'b'", "missing value"]
    elif case == "nan":
        rows[4][3] = "nan"
        expect = ["mixtures.csv", "row 5 (line 6)", "column 'c'", "not a finite number"]
    elif case == "text-loss":
        met[3][1] = "n/a"
        expect = ["metrics.csv", "row 4 (line 5)", "column 'loss'", "'n/a'"]
    elif case == "negative":
        rows[0][1:] = ["-0.1", "0.6", "0.5"]
        expect = ["mixtures.csv", "row 1 (line 2)", "column 'a'", "negative"]
    elif case == "run-missing-from-metrics":
        del met[4]
        expect = ["metrics.csv", "no row for run '5'", "mixtures.csv"]
    elif case == "run-missing-from-mixtures":
        met.append(["9", "4.0", "x"])
        expect = ["mixtures.csv", "no row for run '9'", "metrics.csv", "row 7"]
    elif case == "duplicate-run":
        rows[3][0] = "2"
        expect = ["mixtures.csv", "row 4 (line 5)", "column 'index'", "run '2' appears twice"]
    elif case == "ragged":
        rows[1].append("0.0")
        expect = ["mixtures.csv", "line 3", "5 fields", "header has 4"]
    elif case == "duplicate-column":
        header = ["index", "a", "a", "c"]
        expect = ["mixtures.csv", "line 1", "column 'a' appears twice"]
    elif case == "too-few-runs":
        rows, met = rows[:2], met[:2]
        expect = ["mixtures.csv", "2 runs for 3 domains"]
    elif case == "no-target":
        met_header = ["index", "los", "note"]
        expect = ["metrics.csv", "no target column 'loss'", "los"]
    elif case == "no-join-column":
        met_header = ["id", "loss", "note"]
        expect = ["mixtures.csv", "metrics.csv", "no run-id column", "--join"]
    elif case == "join-not-there":
        argv = ["--join", "run"]
        expect = ["mixtures.csv", "no run-id column 'run'"]
    elif case == "not-utf8":
        (folder / "mixtures.csv").write_bytes(b"index,a,b,c\n1,0.5,0.5,0\xff\n")
        expect = ["mixtures.csv", "not UTF-8"]
    elif case == "empty":
        (folder / "mixtures.csv").write_text("")
        expect = ["mixtures.csv", "empty file"]
    elif case == "no-such-file":
        argv = ["--mixtures", str(folder / "nope.csv")]
        expect = ["nope.csv", "no such file"]
    elif case == "prior-domain":
        (folder / "prior.json").write_text(json.dumps({"a": 1, "b": 1, "z": 1}))
        argv = ["--prior", str(folder / "prior.json")]
        expect = ["prior.json", "'z'"]
    elif case == "prior-mixing-laws":
        (folder / "prior.json").write_text(json.dumps({"a": 1, "b": 1, "c": 1}))
        argv = ["--prior", str(folder / "prior.json"), "--method", "mixing-laws"]
        expect = ["--prior", "mixing-laws"]
    elif case == "test-half":
        argv = ["--test-mixtures", str(folder / "mixtures.csv")]
        expect = ["--test-mixtures and --test-metrics"]
    elif case == "test-missing-domain":
        _write(folder / "test_mix.csv", ["index", "a", "b"], [["1", "0.5", "0.5"]])
        _write(folder / "test_met.csv", ["index", "loss"], [["1", "4.0"]])
        argv = ["--test-mixtures", str(folder / "test_mix.csv"), "--test-metrics", str(folder / "test_met.csv")]
        expect = ["test_mix.csv", "no column 'c'"]
    elif case == "bad-param":
        argv = ["--method", "mixing-laws", "--param", "starts=0"]
        expect = ["'starts'", ">= 1"]
    elif case == "unknown-param":
        argv = ["--param", "depth=3"]
        expect = ["unknown parameter 'depth'"]
    elif case == "out-folder-missing":
        argv = ["--out", str(folder / "nope" / "w.json")]
        expect = ["--out", "does not exist"]
    elif case == "bad-method":
        argv = ["--method", "ridge"]
        expect = ["--method", "ridge"]
    if not (folder / "mixtures.csv").exists():
        _write(folder / "mixtures.csv", header, rows)
    _write(folder / "metrics.csv", met_header, met)
    return argv, expect


BAD = ["sum", "missing", "nan", "text-loss", "negative", "run-missing-from-metrics", "run-missing-from-mixtures",
       "duplicate-run", "ragged", "duplicate-column", "too-few-runs", "no-target", "no-join-column",
       "join-not-there", "not-utf8", "empty", "no-such-file", "prior-domain", "prior-mixing-laws", "test-half",
       "test-missing-domain", "bad-param", "unknown-param", "out-folder-missing", "bad-method"]


@pytest.mark.parametrize("case", BAD)
def test_malformed_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, case):
    extra, expect = _bad_case(tmp_path, case)
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = ["fit", "--mixtures", str(tmp_path / "mixtures.csv"), "--metrics", str(tmp_path / "metrics.csv"),
            "--target", "loss", "--out", str(tmp_path / "w.json"), *extra]
    rc, _, err = _run(argv, capsys)
    assert rc == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    for s in expect:
        assert s in err, (s, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no JSON, no plot, no temporary


def test_the_good_small_table_of_those_cases_fits(tmp_path, capsys):
    """The cases above each break one thing of a table that is otherwise accepted."""
    _bad_case(tmp_path, "none")
    rc, _, err = _run(["fit", "--mixtures", str(tmp_path / "mixtures.csv"), "--metrics", str(tmp_path / "metrics.csv"),
                       "--target", "loss", "--method", "linear", "--folds", "3", "--simulations", "2000",
                       "--out", str(tmp_path / "w.json")], capsys)
    assert rc == 0, err
    assert sorted(json.loads((tmp_path / "w.json").read_text())["weights"]) == ["a", "b", "c"]


def test_exit_code_and_one_line_from_a_real_process(tmp_path):
    _bad_case(tmp_path, "sum")
    r = subprocess.run([sys.executable, "-m", "bench.cli", "fit", "--mixtures", str(tmp_path / "mixtures.csv"),
                        "--metrics", str(tmp_path / "metrics.csv"), "--target", "loss",
                        "--out", str(tmp_path / "w.json")], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "row 3 (line 4)" in r.stderr
    assert not (tmp_path / "w.json").exists()
