"""Reports are pure functions of stored results: they work on a partly finished sweep and say what
is missing, work from the tidy tables alone, and render the claims table."""

import json
import shutil

import pandas as pd
from harness_helpers import cli, write_suite

from bench.report import build
from bench.report.data import SuiteData
from bench.report.data import load as load_data
from bench.report.tables import claims_rows, latex, suite_summary
from bench.runner import sweep
from bench.suites import load
from bench.tabulate import markdown


def _figures(out):
    return sorted(p.name for p in (out / "figures").glob("*"))


def test_report_on_a_partly_finished_sweep_says_what_is_missing(small_suite, tmp_path):
    sweep(load(str(small_suite)), "quick", tmp_path, progress=False)
    cells = sorted((tmp_path / "small" / "cells").glob("*.json"))
    doremi = [f for f in cells if json.loads(f.read_text())["cell"]["method"] == "doremi"]
    for f in doremi[:3]:  # as if the sweep had been stopped before these
        f.unlink()
    report = build(tmp_path).read_text()
    assert "**This report is incomplete:** `small` lacks 3 of 16 cells" in report
    assert "Missing: 3 of 16 cells" in report
    assert len(_figures(tmp_path)) == 6  # mixtures, trajectories, curve: PNG and PDF
    for name in _figures(tmp_path):
        assert f"figures/{name}" in report
    assert (tmp_path / "tables" / "small.md").exists() and (tmp_path / "tables" / "small.tex").exists()
    assert "| study | problem | method |" in report
    assert "fitted slope" in report


def test_report_from_the_tidy_tables_alone_is_the_same(small_suite, tmp_path):
    sweep(load(str(small_suite)), "quick", tmp_path / "a", progress=False)
    first = build(tmp_path / "a").read_text()
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    shutil.rmtree(tmp_path / "b" / "small" / "cells")  # what a clone of the committed results has
    assert build(tmp_path / "b").read_text() == first
    assert "incomplete" not in first


def test_report_command_regenerates_everything(small_suite, tmp_path):
    sweep(load(str(small_suite)), "quick", tmp_path, progress=False)
    shutil.rmtree(tmp_path / "small" / "cells")
    r = cli("report", "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "report.md").exists() and len(_figures(tmp_path)) == 6
    # byte-identical when regenerated on another day (matplotlib would stamp the PDFs with the date)
    first = {p: (tmp_path / "figures" / p).read_bytes() for p in _figures(tmp_path)}
    assert cli("report", "--out", tmp_path, env={"SOURCE_DATE_EPOCH": "86400"}).returncode == 0
    assert {p: (tmp_path / "figures" / p).read_bytes() for p in _figures(tmp_path)} == first


def test_claims_table_shows_interval_and_verdict():
    rows = [{"kind": "claim", "status": "ok", "reason": "", "claim_name": "c1", "claim": "penalty bias",
             "setting": "A-nr", "statistic": "slope", "expected": -1.0, "measured": -0.98, "ci_low": -1.01,
             "ci_high": -0.95, "holds": True},
            {"kind": "claim", "status": "ok", "reason": "", "claim_name": "c2", "claim": "uniform optimal",
             "setting": "B", "statistic": "l1", "expected": "0.0", "measured": "true", "ci_low": "true",
             "ci_high": "true", "holds": False},
            {"kind": "claim", "status": "failed", "reason": "ValueError: x", "claim_name": "c3"}]
    run = {"design_commit": "1234567890abcdef", "git_commit": "fedcba0987654321"}
    got = claims_rows([SuiteData("claims", {"cells": []}, pd.DataFrame(rows), [], run)])
    assert got[0] == ["", "penalty bias", "A-nr", "slope", "-1", "-0.98 [-1.01, -0.95]", "holds",
                      "1234567", "fedcba0"]  # declared at, computed at (run.json)
    assert got[1][-3] == "contradicted" and got[1][-5:-3] == ["0", "yes"]  # JSON text of a mixed column
    assert got[2][1] == "c3" and "ValueError" in got[2][-3]
    assert claims_rows([SuiteData("claims", {"cells": []}, pd.DataFrame(rows[:1]), [])])[0][-2:] == ["–", "–"]


def test_markdown_and_latex_render_the_same_cells():
    header, rows = ["a_b", "ℓ1"], [["1 | 2", "50%"]]
    assert markdown(header, rows).splitlines()[2] == "| 1 \\| 2 | 50% |"
    tex = latex(header, rows)
    assert r"a\_b & $\ell$1 \\" in tex and r"1 | 2 & 50\% \\" in tex


def test_a_suite_names_the_scores_of_its_summary_table(tmp_path):
    text = '[report]\nmetrics = ["F", "fw_gap"]\n[[study]]\nname = "s"\nproblems = ["quadratic"]\n' \
           'methods = ["tandem", "uniform"]\nbudget = 30\n'
    sweep(load(str(write_suite(tmp_path, "own", text=text))), "quick", tmp_path, progress=False)
    build(tmp_path)
    header, rows = suite_summary(load_data(tmp_path)[0])
    assert header[-4:] == ["F", "fw_gap", "grad steps", "seconds"] and len(rows) == 2


def test_every_figure_kind_is_drawn_by_a_function_of_its_name():
    """Figure kinds are one registry (bench.suites.schema.FIGURE_KINDS): the suite reader checks a
    study's figures against it without importing matplotlib, and the report draws from it."""
    import subprocess
    import sys

    from bench.report import figures
    from bench.suites.schema import FIGURE_KINDS

    for name, kind in FIGURE_KINDS.items():
        assert kind.function() is getattr(figures, name)
    code = ("import sys, bench.suites; [bench.suites.load(n) for n in bench.suites.suite_names()]; "
            "print('matplotlib' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
