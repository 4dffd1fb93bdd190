"""The walk of the mixture weights from ``tandem-bench mix`` down to the update (issue 21): the chain of
calls that carries alpha from the command to the mixture step visits no file more than once (no
file three times, the issue's bound), and the method's LoopSpec is built once per run."""

import sys
from pathlib import Path

from bench.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_the_walk_from_mix_to_the_update_visits_each_file_once_and_builds_the_spec_once(tmp_path, monkeypatch):
    from tandem_ref.methods.tandem import Tandem

    built = []
    spec = Tandem.spec
    monkeypatch.setattr(Tandem, "spec", lambda self, problem: built.append(1) or spec(self, problem))
    walks = []

    def chain():
        out, f = [], sys._getframe(1)
        while f is not None:
            p = Path(f.f_code.co_filename).resolve()
            if p.is_relative_to(ROOT):
                out.append(p.relative_to(ROOT).as_posix())
            f = f.f_back
        return out[::-1]

    from tandem_ref import updates

    for cls in [c for c in vars(updates).values() if isinstance(c, type) and "__call__" in vars(c)]:
        def wrapped(self, *a, _call=cls.__call__, **k):  # the update: where the walk ends
            walks.append(chain() + ["tandem_ref/updates.py"])
            return _call(self, *a, **k)
        monkeypatch.setattr(cls, "__call__", wrapped)
    code = main(["mix", "--method", "tandem", "--budget", "4", "--out", str(tmp_path / "w.json"), "--quiet",
                 "--train-tokens", "20000", "--target-steps", "0", "--model", "micro", "--seq-len", "32",
                 "--batch-size", "4"])
    assert code == 0 and walks  # the update ran
    walk = [f for f in walks[0][walks[0].index("bench/commands/mix.py"):] if f != "tests/lm/test_walk.py"]
    assert walk[-1] == "tandem_ref/updates.py" and "tandem_ref/loop.py" in walk
    assert len(walk) == len(set(walk)), walk  # every file of the walk once
    assert len(built) == 1  # the spec is built once per method run
