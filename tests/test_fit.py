"""`tandem-bench fit` and tandem_ref.fit (issue 11): proxy runs you bring, a fit, its cross-validated diagnostics,
a proposed mixture. Tested where the truth is known (a controlled family: sampled mixtures, exact F, alpha*), on
RegMix's published proxy runs (../shared/research/external/regmix; skipped where ../shared is absent, CI has it),
and on malformed tables (test_fit_bad_input.py)."""

import json

import numpy as np
import pytest
from fit_helpers import ROOT
from fit_helpers import run_cli as _run
from fit_helpers import tables as _tables

from tandem_ref import fit as F
from tandem_ref.errors import BadInput

REGMIX = ROOT.parent / "shared" / "research" / "external" / "regmix"
needs_regmix = pytest.mark.skipif(not REGMIX.is_dir(), reason="../shared/research/external/regmix is absent")
PILE_CC = "metric/the_pile_pile_cc_val_loss"
# the token distribution of the 17 training domains (column order of train_mixture_1m.csv) that RegMix's regression
# code draws its simulations around for the Pile-CC target
PILE_PRIOR = [0.11328527, 0.07960865, 0.00391349, 0.1853759, 0.05108136, 0.01596293, 0.10175077, 0.00370752,
              0.06652935, 0.00175077, 0.02708548, 0.23686921, 0.01184346, 0.00792997, 0.00803296, 0.03882595,
              0.04644696]


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


def test_fit_methods_are_one_registry_and_the_cli_offers_exactly_them(monkeypatch):
    """tandem_ref.fit.FIT_METHODS is the one list: check_params, fit, propose and `tandem-bench fit --method`
    all read it (a method added there is offered by the CLI; no switch on method names elsewhere)."""
    import argparse

    from bench.commands import fit as cli
    from tandem_ref import fit as F

    assert F.METHODS == tuple(F.FIT_METHODS) == ("regmix", "linear", "mixing-laws")
    for name, m in F.FIT_METHODS.items():
        assert m.name == name and F.check_params(name, {}) == m.defaults

    class Mean(F.LinearFit):
        name = "mean"

        def predictor(self, X, y, p, seed, domains, folds=None):
            return (lambda Z: np.full(len(Z), float(np.mean(y)))), {}, None

    monkeypatch.setitem(F.FIT_METHODS, "mean", Mean())
    sub = argparse.ArgumentParser().add_subparsers()
    cli.register(sub)
    action = next(a for a in sub.choices["fit"]._actions if a.dest == "method")
    assert action.choices == ["regmix", "linear", "mixing-laws", "mean"]
    X = np.random.default_rng(0).dirichlet(np.ones(3), 12)
    fitted = F.fit(X, X @ [1.0, 2.0, 3.0], "mean", folds=3)
    assert fitted.cv["folds"] == 3 and np.allclose(fitted.predict(X[:2]), np.mean(X @ [1.0, 2.0, 3.0]))
    assert F.propose(fitted, simulations=50, top_k=5).shape == (3,)
