"""Every registered method runs through one resumable interface (start, advance, save, load, trace;
``tandem_ref.resume.drive``): a run killed after its first chunk and resumed from what it saved ends
bitwise as the uninterrupted run, for online, offline (probe) and fixed-mixture methods alike."""

import numpy as np
import pytest

from tandem_ref import BadInput, get_method, method_names
from tandem_ref.resume import drive

SMALL = {"aioli": {"update_steps": 24, "lp_rounds": 1, "lp_steps": 2},
         "skill-it": {"update_steps": 10, "graph_steps": 20}, "regmix": {"probes": 6, "simulations": 500},
         "mixing-laws": {"probes": 6, "starts": 2, "implicit_domains": 1}, "random-search": {"probes": 4},
         "fixed": {"weights": [0.2, 0.3, 0.5]}}
BUDGET = 60


@pytest.mark.parametrize("name", method_names())
def test_a_killed_run_resumes_bitwise(name, family_a, tmp_path):
    method = get_method(name, **SMALL.get(name, {}))
    whole = method.run(family_a, BUDGET, 3)
    path = tmp_path / "state.npz"
    st = method.start(family_a, BUDGET, 3)
    st = method.advance(family_a, st, stop_after=1)  # the first chunk, then "killed"
    method.save(family_a, st, path)
    again = get_method(name, **SMALL.get(name, {}))  # a new process: nothing kept but the file
    resumed = drive(again, family_a, BUDGET, 3, path=path, chunk=2)
    assert again.trace(family_a, resumed).equal(whole)
    assert path.exists()  # the state after the last chunk stays until the caller removes it


@pytest.mark.parametrize("name", ["tandem", "random-search", "uniform"])
def test_a_garbage_state_is_refused_or_started_over(name, family_a, tmp_path):
    method = get_method(name, **SMALL.get(name, {}))
    path = tmp_path / "state.npz"
    path.write_bytes(b"not an npz")
    with pytest.raises(BadInput, match="state.npz"):
        drive(method, family_a, BUDGET, 3, path=path, chunk=1)
    with pytest.warns(UserWarning, match="starting over"):
        st = drive(method, family_a, BUDGET, 3, path=path, chunk=1, restart_unreadable=True)
    assert method.trace(family_a, st).equal(method.run(family_a, BUDGET, 3))


def test_a_probe_state_of_another_problem_is_refused(family_a, tmp_path):
    m = get_method("random-search", probes=4)
    st = m.advance(family_a, m.start(family_a, BUDGET, 0), stop_after=1)
    m.save(family_a, st, tmp_path / "s.npz")
    st.mixtures = np.full((4, 5), 0.2)
    m.save(family_a, st, tmp_path / "other.npz")
    assert m.load(family_a, tmp_path / "s.npz").n_done == 1
    with pytest.raises(BadInput, match="5 domains"):
        m.load(family_a, tmp_path / "other.npz")


@pytest.mark.parametrize("name", method_names())
def test_a_trace_saved_and_loaded_is_the_same_trace(name, family_a, tmp_path):
    """The Trace owns its saving and loading (what ``mix`` and the torchrun entry point write): every
    recorded array, the cost and the signal's diagnostics come back bitwise, NaN included (as null)."""
    import json

    from tandem_ref.trace import Trace

    trace = get_method(name, **SMALL.get(name, {})).run(family_a, BUDGET, 3)
    trace.save(tmp_path / "t.json", note="beside it")
    text = (tmp_path / "t.json").read_text()
    assert "NaN" not in text and json.loads(text)["note"] == "beside it"  # plain JSON, extra keys kept
    assert Trace.load(tmp_path / "t.json").equal(trace)
