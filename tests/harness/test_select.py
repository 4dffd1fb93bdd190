"""Studies that select from another study's stored results: tuned step sizes and a grid's best
points (bench/selection.py), planned once their source is stored, chosen on the named column."""


import numpy as np
import pytest
from harness_helpers import write_suite

from bench.results import collect
from bench.runner import plan, sweep
from bench.suites import load
from tandem_ref.errors import BadInput

SUITE = """
description = "selection"
profiles = ["quick"]

[problems.A]
problem = "quadratic"
pert = 1.5
aniso = 5.0

[[study]]
name = "main"
problems = ["A"]
methods = ["uniform"]
seeds = [0, 1]
budget = 200
select = [{study = "tune", by = "regret", as = "tandem"}, {study = "grid", by = "regret", top = 2}]

[[study]]
name = "tune"
problems = ["A"]
methods = ["tandem"]
seeds = [100, 101]
budget = 200
params = {"method.eta_alpha" = [0.001, 0.05, 0.5]}

[[study]]
name = "grid"
problems = ["A"]
methods = ["fixed"]
seeds = [100]
budget = 1
params = {"method.weights" = [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.34, 0.33, 0.33]]}
"""


def test_selecting_study_waits_for_its_source_then_runs_the_chosen_configurations(tmp_path):
    suite = load(str(write_suite(tmp_path, "sel", text=SUITE)))
    pending = []
    first = plan(suite, "quick", tmp_path / "out", pending)
    assert pending == ["main"] and {p.cell.labels["study"] for p in first} == {"tune", "grid"}
    counts = sweep(suite, "quick", tmp_path / "out", progress=False)
    assert counts["failed"] == 0 and "pending" not in counts
    table, missing = collect(tmp_path / "out" / "sel")
    fin = table[table["final"] == True]  # noqa: E712
    assert not missing
    tune = fin[fin["study"] == "tune"].groupby("method.eta_alpha")["regret"].mean()
    main = fin[fin["study"] == "main"]
    assert set(main["method"]) == {"uniform", "tandem", "fixed#1", "fixed#2"}
    assert (main.loc[main["method"] == "tandem", "method.eta_alpha"] == tune.idxmin()).all()
    grid = fin[fin["study"] == "grid"].sort_values("regret")
    best = [grid["method.weights"].iloc[k] for k in (0, 1)]
    for k, label in enumerate(["fixed#1", "fixed#2"]):
        assert (main.loc[main["method"] == label, "method.weights"] == best[k]).all()
        assert sorted(main.loc[main["method"] == label, "seed"]) == [0, 1]
    # resuming computes nothing, and the plan is the same
    again = sweep(suite, "quick", tmp_path / "out", progress=False)
    assert again["computed"] == 0 and again["cells"] == counts["cells"]


@pytest.mark.parametrize("select, message", [
    ('{study = "nope"}', "select study 'nope'"),
    ('{study = "tune", top = 0}', "'top' must be a positive integer"),
    ('{study = "tune", top = 2, as = "x"}', "'as' names one method"),
    ('{study = "tune", how = 1}', "'select' entries are tables"),
])
def test_bad_select_is_refused_naming_the_key(tmp_path, select, message):
    text = SUITE.replace('select = [{study = "tune", by = "regret", as = "tandem"}, '
                         '{study = "grid", by = "regret", top = 2}]',
                         f"select = [{select}]")
    with pytest.raises(BadInput, match=message.replace("(", r"\(")):
        load(str(write_suite(tmp_path, "bad", text=text)))


def test_fixed_method_returns_its_mixture_in_domain_order_or_refuses():
    from bench.problems import make_problem
    from tandem_ref.registry import get_method

    p = make_problem("quadratic", 0, {})
    t = get_method("fixed", weights={d: w for d, w in zip(p.domains, [0.5, 0.3, 0.2])}).run(p, 1)
    assert np.allclose(t.output, [0.5, 0.3, 0.2])
    with pytest.raises(BadInput, match="weights"):
        get_method("fixed", weights=[0.5, 0.6, -0.1]).run(p, 1)
    with pytest.raises(BadInput, match="weights"):
        get_method("fixed")
