"""`tandem-bench fit` on malformed tables: exit 2, one line naming the file, row and column, nothing written."""

import json
import subprocess
import sys

import pytest
from fit_helpers import ROOT
from fit_helpers import run_cli as _run
from fit_helpers import write_table as _write

GOOD_X = [[0.5, 0.3, 0.2], [0.1, 0.1, 0.8], [0.2, 0.6, 0.2], [0.3, 0.3, 0.4], [0.6, 0.2, 0.2], [0.05, 0.9, 0.05]]


def _bad_case(folder, case):
    """Write the tables of a case; return (extra argv, the substrings the error must contain)."""
    doms = ["a", "b", "c"]
    rows = [[str(i + 1), *map(str, x)] for i, x in enumerate(GOOD_X)]
    met = [[str(i + 1), str(4.0 + i / 10), "x"] for i in range(6)]
    header, met_header = ["index", *doms], ["index", "loss", "note"]
    argv, expect = [], []
    if case == "sum":
        rows[2][1] = "0.1"
        expect = ["mixtures.csv", "row 3 (line 4)", "sum to 0.9", "'3'"]
    elif case == "missing":
        rows[1][2] = ""
        expect = ["mixtures.csv", "row 2 (line 3)", "column 'b'", "missing value"]
    elif case == "nan":
        rows[4][3] = "nan"
        expect = ["mixtures.csv", "row 5 (line 6)", "column 'c'", "not a finite number"]
    elif case == "text-loss":
        met[3][1] = "n/a"
        expect = ["metrics.csv", "row 4 (line 5)", "column 'loss'", "'n/a'"]
    elif case == "negative":
        rows[0][1:] = ["-0.1", "0.6", "0.5"]
        expect = ["mixtures.csv", "row 1 (line 2)", "column 'a'", "negative"]
    elif case == "run-missing-from-metrics":
        del met[4]
        expect = ["metrics.csv", "no row for run '5'", "mixtures.csv"]
    elif case == "run-missing-from-mixtures":
        met.append(["9", "4.0", "x"])
        expect = ["mixtures.csv", "no row for run '9'", "metrics.csv", "row 7"]
    elif case == "duplicate-run":
        rows[3][0] = "2"
        expect = ["mixtures.csv", "row 4 (line 5)", "column 'index'", "run '2' appears twice"]
    elif case == "ragged":
        rows[1].append("0.0")
        expect = ["mixtures.csv", "line 3", "5 fields", "header has 4"]
    elif case == "duplicate-column":
        header = ["index", "a", "a", "c"]
        expect = ["mixtures.csv", "line 1", "column 'a' appears twice"]
    elif case == "too-few-runs":
        rows, met = rows[:2], met[:2]
        expect = ["mixtures.csv", "2 runs for 3 domains"]
    elif case == "no-target":
        met_header = ["index", "los", "note"]
        expect = ["metrics.csv", "no target column 'loss'", "los"]
    elif case == "no-join-column":
        met_header = ["id", "loss", "note"]
        expect = ["mixtures.csv", "metrics.csv", "no run-id column", "--join"]
    elif case == "join-not-there":
        argv = ["--join", "run"]
        expect = ["mixtures.csv", "no run-id column 'run'"]
    elif case == "not-utf8":
        (folder / "mixtures.csv").write_bytes(b"index,a,b,c\n1,0.5,0.5,0\xff\n")
        expect = ["mixtures.csv", "not UTF-8"]
    elif case == "empty":
        (folder / "mixtures.csv").write_text("")
        expect = ["mixtures.csv", "empty file"]
    elif case == "no-such-file":
        argv = ["--mixtures", str(folder / "nope.csv")]
        expect = ["nope.csv", "no such file"]
    elif case == "prior-domain":
        (folder / "prior.json").write_text(json.dumps({"a": 1, "b": 1, "z": 1}))
        argv = ["--prior", str(folder / "prior.json")]
        expect = ["prior.json", "'z'"]
    elif case == "prior-mixing-laws":
        (folder / "prior.json").write_text(json.dumps({"a": 1, "b": 1, "c": 1}))
        argv = ["--prior", str(folder / "prior.json"), "--method", "mixing-laws"]
        expect = ["--prior", "mixing-laws"]
    elif case == "test-half":
        argv = ["--test-mixtures", str(folder / "mixtures.csv")]
        expect = ["--test-mixtures and --test-metrics"]
    elif case == "test-missing-domain":
        _write(folder / "test_mix.csv", ["index", "a", "b"], [["1", "0.5", "0.5"]])
        _write(folder / "test_met.csv", ["index", "loss"], [["1", "4.0"]])
        argv = ["--test-mixtures", str(folder / "test_mix.csv"), "--test-metrics", str(folder / "test_met.csv")]
        expect = ["test_mix.csv", "no column 'c'"]
    elif case == "bad-param":
        argv = ["--method", "mixing-laws", "--param", "starts=0"]
        expect = ["'starts'", ">= 1"]
    elif case == "unknown-param":
        argv = ["--param", "depth=3"]
        expect = ["unknown parameter 'depth'"]
    elif case == "out-folder-missing":
        argv = ["--out", str(folder / "nope" / "w.json")]
        expect = ["--out", "does not exist"]
    elif case == "bad-method":
        argv = ["--method", "ridge"]
        expect = ["--method", "ridge"]
    if not (folder / "mixtures.csv").exists():
        _write(folder / "mixtures.csv", header, rows)
    _write(folder / "metrics.csv", met_header, met)
    return argv, expect


BAD = ["sum", "missing", "nan", "text-loss", "negative", "run-missing-from-metrics", "run-missing-from-mixtures",
       "duplicate-run", "ragged", "duplicate-column", "too-few-runs", "no-target", "no-join-column",
       "join-not-there", "not-utf8", "empty", "no-such-file", "prior-domain", "prior-mixing-laws", "test-half",
       "test-missing-domain", "bad-param", "unknown-param", "out-folder-missing", "bad-method"]


@pytest.mark.parametrize("case", BAD)
def test_malformed_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, case):
    extra, expect = _bad_case(tmp_path, case)
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = ["fit", "--mixtures", str(tmp_path / "mixtures.csv"), "--metrics", str(tmp_path / "metrics.csv"),
            "--target", "loss", "--out", str(tmp_path / "w.json"), *extra]
    rc, _, err = _run(argv, capsys)
    assert rc == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    for s in expect:
        assert s in err, (s, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no JSON, no plot, no temporary


def test_the_good_small_table_of_those_cases_fits(tmp_path, capsys):
    """The cases above each break one thing of a table that is otherwise accepted."""
    _bad_case(tmp_path, "none")
    rc, _, err = _run(["fit", "--mixtures", str(tmp_path / "mixtures.csv"), "--metrics", str(tmp_path / "metrics.csv"),
                       "--target", "loss", "--method", "linear", "--folds", "3", "--simulations", "2000",
                       "--out", str(tmp_path / "w.json")], capsys)
    assert rc == 0, err
    assert sorted(json.loads((tmp_path / "w.json").read_text())["weights"]) == ["a", "b", "c"]


def test_exit_code_and_one_line_from_a_real_process(tmp_path):
    _bad_case(tmp_path, "sum")
    r = subprocess.run([sys.executable, "-m", "bench.cli", "fit", "--mixtures", str(tmp_path / "mixtures.csv"),
                        "--metrics", str(tmp_path / "metrics.csv"), "--target", "loss",
                        "--out", str(tmp_path / "w.json")], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "row 3 (line 4)" in r.stderr
    assert not (tmp_path / "w.json").exists()
