"""A tuned value at the edge of its grid is not tuned (issue 22, item 6): with ``extend = [low, high]``
the source study's grid grows at the same spacing in the direction of an edge choice until the
choice is interior or the next value leaves the declared bounds (bench/selection.py)."""

import math

import pytest
from harness_helpers import write_suite

from bench.cells import Cell
from bench.results import collect
from bench.runner import plan, sweep
from bench.selection import extension, next_value
from bench.suites import load


@pytest.mark.parametrize("values, up, expected", [
    ([3.0, 10.0, 30.0], True, 100.0), ([3.0, 10.0, 30.0], False, 1.0),  # the 1-3-10 sequence
    ([1.0, 3.0, 10.0], True, 30.0), ([0.1, 0.3, 1.0], False, 0.03),
    ([2.0, 4.0, 8.0], True, 16.0), ([2.0, 4.0, 8.0], False, 1.0),  # geometric: the edge pair's ratio
    ([-1.0, 0.0, 1.0], True, 2.0), ([-1.0, 0.0, 1.0], False, -2.0),  # arithmetic where not all positive
    ([2, 4], True, 8),  # integers stay integers
])
def test_the_next_value_keeps_the_grids_spacing(values, up, expected):
    got = next_value(values, up)
    assert got == pytest.approx(expected, rel=1e-12) and type(got) is type(expected)


def _tune_cells(values, problems=("P",), seeds=(100, 101)):
    return [Cell("run", "quadratic", {}, "tandem", {"eta_alpha": v}, s,
                 labels={"study": "tune", "problem_label": p, "method_label": "tandem",
                         "grid": {"method.eta_alpha": v}})
            for p in problems for v in values for s in seeds]


def _bowl(best_at: dict):
    """A stored final row per cell: validation loss (log10 eta - log10 best)^2, a bowl with its
    minimum at the problem's ``best_at`` (closed form: the choice is the grid point nearest it)."""
    def final(c):
        eta = c.method_params["eta_alpha"]
        return c.as_dict(), {"val_avg_loss": (math.log10(eta) - math.log10(best_at[c.labels["problem_label"]])) ** 2}
    return final


def _values(cells, problem="P"):
    return sorted({c.method_params["eta_alpha"] for c in cells if c.labels["problem_label"] == problem})


def test_an_edge_choice_extends_until_it_is_interior():
    spec = {"study": "tune", "by": "val_avg_loss", "per": None, "extend": [0.01, 1000.0]}
    src = _tune_cells([1.0, 3.0, 10.0])
    added, complete = extension(spec, src, _bowl({"P": 100.0}))
    # 10 is the top: 30, then 100 (still the top), then 300: 100 is interior
    assert complete and _values(added) == [30.0, 100.0, 300.0]
    assert len(added) == 6 and sorted({c.seed for c in added}) == [100, 101]  # on the source's seeds
    assert all(c.labels["grid"]["method.eta_alpha"] == c.method_params["eta_alpha"] for c in added)
    # an interior choice adds nothing; so does a grid without 'extend'
    assert extension(spec, src, _bowl({"P": 3.0})) == ([], True)
    assert extension({**spec, "extend": None}, src, _bowl({"P": 100.0})) == ([], True)


def test_the_extension_stops_at_the_declared_bound_and_goes_down_as_well():
    spec = {"study": "tune", "by": "val_avg_loss", "per": None, "extend": [0.3, 30.0]}
    added, _ = extension(spec, _tune_cells([1.0, 3.0, 10.0]), _bowl({"P": 1000.0}))
    assert _values(added) == [30.0]  # 100 would leave [0.3, 30]: 30 stays the (declared) edge choice
    added, _ = extension(spec, _tune_cells([1.0, 3.0, 10.0]), _bowl({"P": 0.001}))
    assert _values(added) == [0.3]


def test_per_problem_each_problem_extends_on_its_own_and_an_unstored_point_waits():
    spec = {"study": "tune", "by": "val_avg_loss", "per": "problem", "extend": [0.01, 1000.0]}
    src = _tune_cells([1.0, 3.0, 10.0], problems=("S", "L"))
    added, complete = extension(spec, src, _bowl({"S": 3.0, "L": 0.1}))
    assert complete and _values(added, "S") == [] and _values(added, "L") == [0.03, 0.1, 0.3]  # 0.1 became an edge
    stored = _bowl({"S": 3.0, "L": 0.1})
    partial = lambda c: None if c.method_params["eta_alpha"] < 0.5 else stored(c)  # noqa: E731
    added, complete = extension(spec, src, partial)
    assert not complete and _values(added, "L") == [0.3]  # one point at a time: the next waits for it


SUITE = """
description = "extension"
profiles = ["quick"]

[problems.A]
problem = "quadratic"
pert = 1.5
aniso = 5.0

[[study]]
name = "main"
problems = ["A"]
methods = ["uniform"]
seeds = [0]
budget = 200
select = [{study = "tune", by = "regret", as = "tandem", extend = [1e-6, 100.0]}]

[[study]]
name = "tune"
problems = ["A"]
methods = ["tandem"]
seeds = [100]
budget = 200
params = {"method.eta_alpha" = [1e-5, 1e-4]}
"""


def test_the_runner_extends_a_grid_then_runs_the_interior_choice(tmp_path):
    suite = load(str(write_suite(tmp_path, "ext", text=SUITE)))
    counts = sweep(suite, "quick", tmp_path / "out", progress=False)
    assert counts["failed"] == 0 and "pending" not in counts
    table, missing = collect(tmp_path / "out" / "ext")
    fin = table[table["final"] == True]  # noqa: E712
    tune = fin[fin["study"] == "tune"].groupby("method.eta_alpha")["regret"].mean()
    assert not missing and len(tune) > 2  # 1e-5 and 1e-4 are far too small a step: the grid grew up
    chosen = fin.loc[(fin["study"] == "main") & (fin["method"] == "tandem"), "method.eta_alpha"].iloc[0]
    assert chosen == tune.idxmin()
    assert chosen < tune.index.max() or next_value(sorted(tune.index), True) > 100.0  # interior, or the bound
    again = sweep(suite, "quick", tmp_path / "out", progress=False)
    assert again["computed"] == 0 and again["cells"] == counts["cells"]
    assert [p.key for p in plan(suite, "quick", tmp_path / "out")] == [p.key for p in plan(
        suite, "quick", tmp_path / "out")]


def test_the_report_says_why_an_edge_choice_stands():
    from bench.selection import edge_note

    assert edge_note([3.0, 10.0, 30.0], 10.0, [0.3, 300.0]) == ""  # interior
    assert "no extension declared" in edge_note([1.0, 3.0, 10.0], 10.0, None)
    assert "next value 0.1 is outside the declared bounds [0.3, 300]" in edge_note([0.3, 1.0, 3.0], 0.3, [0.3, 300.0])
    assert "not yet extended to 100" in edge_note([3.0, 10.0, 30.0], 30.0, [0.3, 300.0])
