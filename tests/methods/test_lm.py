"""Every peer runs on the small LM (bench/lm/problem.py) through the Problem protocol alone."""

import numpy as np
import pytest
import torch

from tandem_ref import BadInput, get_method, load_state, save_state

SMALL = {"odm": {}, "aioli": {"update_steps": 8, "lp_rounds": 1, "lp_steps": 1},
         "skill-it": {"update_steps": 4, "graph_steps": 4},
         "regmix": {"probes": 16, "simulations": 2000, "probe_steps": 3},
         "mixing-laws": {"probes": 6, "starts": 2, "implicit_domains": 1, "probe_steps": 3},
         "random-search": {"probes": 3}}


@pytest.fixture
def lm():
    from bench.lm.build import lm_problem
    from bench.lm.corpus import Corpus, Domain

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    docs = lambda n, size, alphabet: tuple(bytes(rng.choice(np.frombuffer(alphabet, dtype=np.uint8), size=size))  # noqa: E731
                                           for _ in range(n))
    corpus = Corpus((Domain("letters", docs(40, 400, b"abcdefgh \n"), "toy"),
                     Domain("digits", docs(20, 300, b"0123456789,\n"), "toy"),
                     Domain("upper", docs(12, 200, b"XYZ "), "toy")))
    return lambda: lm_problem(0, corpus=corpus, model="micro", seq_len=32, batch_size=6, warmup=2, eval_batch=3)


@pytest.mark.parametrize("name", list(SMALL))
def test_peer_runs_on_the_lm(lm, name):
    p = lm()
    t = get_method(name, **SMALL[name]).run(p, 12, 0)
    assert np.isclose(t.output.sum(), 1) and np.all(t.output >= 0) and t.domains == list(p.domains)
    steps = {"skill-it": 12 + 3 * 4, "regmix": 16 * 3, "mixing-laws": 6 * 3, "random-search": 3 * 12}.get(name, 12)
    assert t.cost["grad_steps"] == steps and t.cost["tokens"] > 0


def test_oracle_refuses_the_lm(lm):
    with pytest.raises(BadInput, match="problem 'LMProblem' has no exact optimum"):
        get_method("oracle").run(lm(), 1)


@pytest.mark.parametrize("name", ["odm", "aioli", "skill-it"])
def test_lm_stop_and_resume_is_bitwise_identical(lm, tmp_path, name):
    m = get_method(name, **SMALL[name])
    full = m.run(lm(), 16, 2)
    p = lm()
    st = m.advance(p, m.start(p, 16, 2), stop_after=2)
    save_state(p, st, tmp_path / "state.npz")
    fresh = lm()
    assert m.trace(fresh, m.advance(fresh, load_state(fresh, tmp_path / "state.npz"))).equal(full)
