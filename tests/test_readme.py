"""The README shows what the code and results/ hold."""

import re
import subprocess
import sys
from pathlib import Path

from bench.report.markdown import PERF_END, PERF_START, perf_table, readme_digest_block

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_claims_block_is_the_committed_digest():
    digest = (ROOT / "results" / "tables" / "claims_digest.md").read_text().strip("\n")
    assert readme_digest_block(README) == digest, "run: tandem-bench report --out results --readme README.md"


def test_perf_block_is_the_committed_gate_table():
    table = perf_table((ROOT / "results" / "perf" / "summary.md").read_text())
    block = README[README.index(PERF_START) + len(PERF_START):README.index(PERF_END)].strip("\n")
    assert table and block == table, "run: tandem-bench report --out results --readme README.md"


def test_every_local_link_exists():
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if "://" in target or target.startswith("../shared"):
            continue
        assert (ROOT / target).exists(), target


def test_quick_start_is_what_ci_runs():
    assert "./dev reproduce" in README and "./dev test" in README
    assert "./dev test" in (ROOT / ".ci" / "run").read_text()


def test_listed_methods_match_the_registry():
    from tandem_ref.registry import METHODS

    out = subprocess.run([sys.executable, "-m", "bench.cli", "list", "methods"], cwd=ROOT,
                         capture_output=True, text=True)
    assert [line.split()[0] for line in out.stdout.splitlines()[1:]] == list(METHODS)
