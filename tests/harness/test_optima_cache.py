"""The exact optima shared by a sweep's cells (bench.scoring._optimum, kept in OUT/optima and shipped
with the committed results): a stored optimum is used only when F and the Frank-Wolfe gap recomputed
at its alpha are bitwise the stored ones; otherwise it is solved again and rewritten."""

import json

import numpy as np

from bench import scoring
from bench.problems import make_problem
from theory import exact


def _problem():
    return make_problem("quadratic", 3, {})


def test_a_stored_optimum_is_read_back_and_a_tampered_one_is_solved_again(tmp_path, monkeypatch):
    p = _problem()
    first = scoring._optimum(p, tmp_path)
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1 and files[0].name.startswith(p.fingerprint())
    solves = []
    real = exact.optimum
    monkeypatch.setattr(exact, "optimum", lambda problem, **kw: solves.append(1) or real(problem, **kw))
    again = scoring._optimum(p, tmp_path)
    assert solves == [] and np.array_equal(again.alpha, first.alpha) and again.F == first.F
    d = json.loads(files[0].read_text())
    # a point that is not the optimum, with its own true F (so only the gap check can catch it)
    wrong = np.full(len(p.domains), 1.0 / len(p.domains))
    files[0].write_text(json.dumps({**d, "alpha": wrong.tolist(), "F": float(exact.F(p, wrong))}))
    fixed = scoring._optimum(p, tmp_path)
    assert solves == [1] and np.array_equal(fixed.alpha, first.alpha)
    assert json.loads(files[0].read_text()) == d  # rewritten
    files[0].write_text("{not json")  # torn
    assert np.array_equal(scoring._optimum(p, tmp_path).alpha, first.alpha) and solves == [1, 1]


def test_one_file_per_problem_other_theory_versions_removed(tmp_path):
    p = _problem()
    stale = tmp_path / f"{p.fingerprint()}-0123456789ab.json"
    stale.write_text("{}")
    other = tmp_path / "another-problem-0123456789ab.json"
    other.write_text("{}")
    scoring._optimum(p, tmp_path)
    assert not stale.exists() and other.exists()
    assert [f.name for f in tmp_path.glob(f"{p.fingerprint()}-*.json")] == [
        f"{p.fingerprint()}-{scoring.scorer_version('exact')}.json"]
