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


# --- the forms a model-size ladder needs: a choice per problem, a learned mixture moved to another ---

def _cand(problem, label, eta, seed, val, alpha=None):
    cell = {"method": "tandem", "method_params": {"eta_alpha": eta}, "seed": seed,
            "problem_params": {"domains": ["a", "b", "c"]}}
    row = {"val_avg_loss": val, **({f"alpha.{d}": w for d, w in zip("abc", alpha)} if alpha else {})}
    return cell, {"problem_label": problem, "method_label": label, "grid": {"method.eta_alpha": eta}}, row


def test_per_problem_selection_chooses_at_each_problem_and_runs_it_there_only():
    from bench.selection import chosen

    cands = [_cand("small", "t", 1.0, 100, 2.0), _cand("small", "t", 3.0, 100, 1.0),
             _cand("big", "t", 1.0, 100, 0.5), _cand("big", "t", 3.0, 100, 0.9)]
    spec = {"study": "tune", "by": "val_avg_loss", "top": 1, "as": "tandem", "per": "problem", "mixture": None}
    assert chosen(spec, cands) == [("tandem", "tandem", {"eta_alpha": 3.0}, "small"),
                                   ("tandem", "tandem", {"eta_alpha": 1.0}, "big")]
    # without per, one choice over every problem's cells (the mean over them), run everywhere
    assert chosen({**spec, "per": None}, cands) == [("tandem", "tandem", {"eta_alpha": 3.0}, None)]  # 0.95 < 1.25


def test_a_transferred_mixture_is_the_mean_final_alpha_of_the_source_problem():
    from bench.selection import chosen

    cands = [_cand("small", "tandem", 3.0, 1, 1.0, (0.2, 0.3, 0.5)),
             _cand("small", "tandem", 3.0, 0, 1.0, (0.4, 0.3, 0.3)),
             _cand("big", "tandem", 3.0, 0, 1.0, (0.9, 0.05, 0.05)), _cand("small", "other", 3.0, 0, 1.0, (1, 0, 0))]
    spec = {"study": "main", "by": "val_avg_loss", "top": 1, "as": "tandem@small", "per": None, "mixture": "tandem",
            "from": "small", "on": "big"}
    label, name, params, on = chosen(spec, cands)[0]
    assert (label, name, on) == ("tandem@small", "fixed", "big")
    assert params["weights"] == pytest.approx([0.3, 0.3, 0.4], abs=1e-12)
    with pytest.raises(BadInput, match="no finished cell"):
        chosen({**spec, "from": "nowhere"}, cands)


@pytest.mark.parametrize("entry, match", [
    ('{study = "tune", per = "seed"}', "'per' must be"),
    ('{study = "tune", mixture = "tandem", as = "x"}', "needs 'from' and 'on'"),
    ('{study = "tune", from = "A"}', "'from' belongs to a 'mixture' entry"),
    ('{study = "tune", on = "A"}', "'on' .a problem label. to a 'mixture' or a 'per' entry"),
    ('{study = "tune", extend = [10, 1]}', "'extend' must be .low, high."),
    ('{study = "tune", extend = 3}', "'extend' must be"),
])
def test_bad_ladder_select_entries_are_one_line_errors(tmp_path, entry, match):
    old = 'select = [{study = "tune", by = "regret", as = "tandem"}, {study = "grid", by = "regret", top = 2}]'
    text = SUITE.replace(old, f"select = [{entry}]")
    with pytest.raises(BadInput, match=match):
        load(str(write_suite(tmp_path, "bad", text=text)))


def test_an_entry_restricted_to_a_problem_plans_cells_on_that_problem_only(tmp_path):
    from bench.suites import expand

    text = SUITE.replace('problems = ["A"]\nmethods = ["uniform"]', 'problems = ["A", "B"]\nmethods = ["uniform"]', 1)
    text = text.replace("[[study]]", '[problems.B]\nproblem = "quadratic"\npert = 0.5\n\n[[study]]', 1)
    suite = load(str(write_suite(tmp_path, "only", text=text)))
    extra = [("tuned", "tandem", {"eta_alpha": 0.05}, "B")]
    cells = expand(suite, "quick", resolve=lambda study, specs, so_far: (extra, []))
    main = [c for c in cells if c.labels["study"] == "main"]
    assert {(c.labels["problem_label"], c.labels["method_label"]) for c in main} == {
        ("A", "uniform"), ("B", "uniform"), ("B", "tuned")}
    with pytest.raises(BadInput, match="not a problem of the study"):
        expand(suite, "quick", resolve=lambda study, specs, so_far: ([("tuned", "tandem", {}, "Z")], []))
