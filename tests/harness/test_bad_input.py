"""Bad input: exit code 2, one line on stderr naming what is wrong, and nothing written."""

import pytest
from harness_helpers import cli, write_suite

GOOD_STUDY = """
[[study]]
name = "s"
problems = ["quadratic"]
methods = ["tandem"]
budget = 20
"""

LM_PROBLEM = """
[problems.p]
problem = "lm"
model = "micro"
{line}
"""
LM_STUDY = """
[[study]]
name = "s"
problems = ["p"]
methods = ["uniform"]
budget = 2
"""

CASES = {
    "unknown suite": (["run", "no-such-suite"], "unknown suite 'no-such-suite'"),
    "unknown profile": (["run", "{suite}", "--profile", "huge"], "profile 'huge'"),
    "unknown method": (["run", "{bad}"], "unknown method 'nosuch'",
                       GOOD_STUDY.replace('methods = ["tandem"]', 'methods = ["nosuch"]')),
    "unknown method parameter": (["run", "{bad}"], "unknown parameter 'gama'",
                                 GOOD_STUDY + '[study.params]\n"method.gama" = 1.0\n'),
    "unknown problem parameter": (["run", "{bad}"], "aniso_typo",
                                  GOOD_STUDY + '[study.params]\n"problem.aniso_typo" = 1.0\n'),
    "unknown problem": (["run", "{bad}"], "unknown problem 'nosuch'",
                        GOOD_STUDY.replace('problems = ["quadratic"]', 'problems = ["nosuch"]')),
    "malformed toml": (["run", "{bad}"], "line", GOOD_STUDY.replace("budget = 20", "budget = = 20")),
    "unknown suite key": (["run", "{bad}"], "unknown key 'budgett'", GOOD_STUDY.replace("budget", "budgett")),
    "bad figure": (["run", "{bad}"], "figure", GOOD_STUDY + 'figure = {kind = "pie"}\n'),
    "bad report table": (["run", "{bad}"], "[report]", "[report]\nmetric = 1\n" + GOOD_STUDY),
    "unwritable output": (["run", "{suite}", "--out", "{file}/sub"], "not a directory"),
    "unknown reproduce profile": (["reproduce", "--profile", "huge", "--out", "{out}"], "profile 'huge'"),
    "report without results": (["report", "--out", "{out}"], "no results"),
    "bad jobs": (["run", "{suite}", "--jobs", "-3", "--out", "{out}"], "--jobs"),
    "wrong-typed method parameter": (["run", "{bad}"], "parameter 'probe' must be an integer, got '4'",
                                     '[methods.t]\nmethod = "tandem"\nprobe = "4"\n'
                                     + GOOD_STUDY.replace('"tandem"', '"t"')),
    "lm corpus that does not exist": (["run", "{bad}"], "/no/such/corpus: no such file or folder",
                                      LM_PROBLEM.format(line='corpus = "/no/such/corpus"') + LM_STUDY),
    "lm corpus of the wrong type": (["run", "{bad}"], "corpus must be a path",
                                    LM_PROBLEM.format(line="corpus = 3") + LM_STUDY),
    "lm seq_len 0": (["run", "{bad}"], "seq_len must be an integer >= 2, got 0",
                     LM_PROBLEM.format(line="seq_len = 0") + LM_STUDY),
    "lm batch_size 2.5": (["run", "{bad}"], "batch_size must be an integer >= 1, got 2.5",
                          LM_PROBLEM.format(line="batch_size = 2.5") + LM_STUDY),
    "lm negative warmup": (["run", "{bad}"], "warmup must be an integer >= 0, got -1",
                           LM_PROBLEM.format(line="warmup = -1") + LM_STUDY),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(name, tmp_path):
    args, needle, *text = CASES[name]
    good = write_suite(tmp_path, "good", text=GOOD_STUDY)
    bad = write_suite(tmp_path, "bad", text=text[0]) if text else good
    (tmp_path / "file").write_text("a file, not a folder")
    out = tmp_path / "out"
    subs = {"suite": good, "bad": bad, "file": tmp_path / "file", "out": out}
    args = [a.format(**subs) for a in args]
    if "--out" not in args:
        args += ["--out", str(out)]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    r = cli(*args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, r.stderr
    assert needle in r.stderr, r.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written anywhere
