"""Cell keys: stable across processes, changed by any parameter, blind to labels."""

import subprocess
import sys

import pytest
from harness_helpers import ROOT, write_suite

from bench.cells import Cell, key_of
from bench.compute import config_of
from bench.runner import plan
from bench.suites import load


def key(**over):
    base = dict(kind="run", problem="quadratic", problem_params={"pert": 1.5, "aniso": 5.0}, method="tandem",
                method_params={"gamma": 10.0}, seed=0, budget=50, log_points=5, score="exact")
    return key_of(config_of(Cell(**{**base, **over})))


def test_keys_are_equal_in_another_process(tmp_path):
    # score = "none": the exact scorer's version is a hash of theory's source, which another session
    # may be editing while this test runs; everything else in the key is exercised
    suite = write_suite(tmp_path, "nos")
    suite.write_text(suite.read_text().replace("\nlog_points", '\nscore = "none"\nlog_points'))
    here = [p.key for p in plan(load(str(suite)), "quick")]
    assert {p.cell.score for p in plan(load(str(suite)), "quick")} == {"none"}
    code = ("from bench.runner import plan; from bench.suites import load; "
            f"print(' '.join(p.key for p in plan(load({str(suite)!r}), 'quick')))")
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert there.stdout.split() == here
    assert len(set(here)) == len(here)  # every cell of the small suite is a different computation


@pytest.mark.parametrize("change", [
    {"problem_params": {"pert": 1.5, "aniso": 6.0}},
    {"problem_params": {"pert": 1.5, "aniso": 5.0, "ridge": 0.1}},
    {"problem_params": {"pert": 1.5, "aniso": 5.0, "domains": ["b", "a", "c"]}},
    {"method_params": {"gamma": 10.000001}},
    {"method_params": {"gamma": 10.0, "probe": 3}},
    {"method": "doge", "method_params": {}},
    {"problem": "balanced", "problem_params": {}},
    {"seed": 1}, {"budget": 51}, {"log_points": 6}, {"score": "none"},
])
def test_any_changed_parameter_changes_the_key(change):
    assert key(**change) != key()


def test_defaults_written_out_or_left_implicit_give_one_key():
    from tandem_ref.methods.tandem import Tandem

    assert key(method_params={"gamma": 10.0, "probe": Tandem.defaults["probe"]}) == key()


def test_method_version_enters_the_key(monkeypatch):
    from tandem_ref.methods.tandem import Tandem

    before = key()
    monkeypatch.setattr(Tandem, "version", Tandem.version + ".1")
    assert key() != before


def test_labels_and_checkpointing_do_not_change_the_key():
    assert key(labels={"study": "x", "problem_label": "A"}) == key()
    assert key(checkpoint_every=7) == key()


def test_claim_keys_depend_on_claim_and_profile():
    c = dict(kind="claim", problem="", problem_params={}, method="", claim="a", method_params={"profile": "quick"},
             seed=0)
    k = key_of(config_of(Cell(**c)))
    assert k != key_of(config_of(Cell(**{**c, "claim": "b"})))
    assert k != key_of(config_of(Cell(**{**c, "method_params": {"profile": "full"}})))


def test_a_cell_round_trips_through_its_dict_and_only_a_claim_cell_names_a_claim():
    run = Cell(kind="run", problem="quadratic", problem_params={}, method="tandem", method_params={}, seed=1)
    claim = Cell(kind="claim", problem="", problem_params={}, method="", claim="plumbing",
                 method_params={"profile": "quick"}, seed=0)
    assert "claim" not in run.as_dict() and claim.as_dict()["claim"] == "plumbing"
    assert Cell.from_dict(run.as_dict()) == run and Cell.from_dict(claim.as_dict()) == claim


def test_no_module_switches_on_a_cell_kinds_name():
    """Cell kinds are classes (bench.cells.KINDS) that build their config, plan and compute their cells
    and add their own columns: no module compares a kind to its name (issue 21)."""
    import re

    from bench.cells import KINDS

    names = "|".join(KINDS)
    pattern = re.compile(rf"""kind"?\]?\s*[!=]=\s*["']({names})["']""")
    found = [f"{p.relative_to(ROOT)}:{i + 1}" for p in sorted((ROOT / "bench").rglob("*.py"))
             for i, line in enumerate(p.read_text().splitlines()) if pattern.search(line)]
    assert not found, found
    assert pattern.search('if cell["kind"] == "claim":') and pattern.search("if self.kind == 'run'")
