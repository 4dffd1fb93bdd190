"""The committed results are what `tandem-bench report` regenerates from the stored tables: the
claims table, its digest, the LM-beside-the-paper table, and the README's blocks built from them."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.report.markdown import DIGEST_END, DIGEST_START, LM_END, LM_START, SCALE_END, SCALE_START

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"


def _block(text: str, start: str, end: str) -> str:
    return text[text.index(start) + len(start):text.index(end)].strip("\n")


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    for manifest in RESULTS.glob("*/manifest.json"):  # the stored tables and run records: no cells, figures, tables
        d = out / manifest.parent.name
        d.mkdir()
        for name in ("manifest.json", "results.parquet", "results.csv", "run.json"):
            if (manifest.parent / name).exists():
                shutil.copy(manifest.parent / name, d / name)
    for manifest in RESULTS.glob("first-design/*/manifest.json"):  # a design's first results, where it changed
        d = out / "first-design" / manifest.parent.name
        d.mkdir(parents=True)
        for name in ("manifest.json", "results.parquet", "run.json"):
            shutil.copy(manifest.parent / name, d / name)
    stored = RESULTS / "tables" / "regmix_agreement.json"  # RegMix's statistics, where ../shared is absent
    if stored.exists():
        (out / "tables").mkdir()
        shutil.copy(stored, out / "tables" / stored.name)
    readme = out / "README.md"
    shutil.copy(ROOT / "README.md", readme)
    proc = subprocess.run([sys.executable, "-m", "bench.cli", "report", "--out", str(out), "--readme", str(readme)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.parametrize("table", ["claims.md", "claims_digest.md", "lm_paper.md", "ladder.md"])
def test_committed_tables_are_what_report_regenerates(regenerated, table):
    committed = RESULTS / "tables" / table
    assert committed.exists(), f"results/tables/{table} is not committed"
    assert (regenerated / "tables" / table).read_text() == committed.read_text(), \
        "run: tandem-bench report --out results --readme README.md"


def test_readme_blocks_are_what_report_regenerates(regenerated):
    new, old = (regenerated / "README.md").read_text(), (ROOT / "README.md").read_text()
    for start, end in ((DIGEST_START, DIGEST_END), (LM_START, LM_END), (SCALE_START, SCALE_END)):
        assert _block(new, start, end) == _block(old, start, end), \
            "run: tandem-bench report --out results --readme README.md"
