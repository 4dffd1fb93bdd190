"""Bad input around stored results: each is one line naming the file (exit 2) or, for a torn cell
file, a warning and a recomputation; nothing half-written."""

import json

from harness_helpers import cli, write_suite


def _sweep(tmp_path):
    suite = write_suite(tmp_path, "small", budget=20)
    out = tmp_path / "out"
    assert cli("run", suite, "--out", out).returncode == 0
    return suite, out


def test_a_corrupt_cell_file_is_recomputed_with_a_warning(tmp_path):
    suite, out = _sweep(tmp_path)
    cell = sorted((out / "small" / "cells").glob("*.json"))[0]
    good = json.loads(cell.read_text())
    cell.write_text(cell.read_text()[:50])  # truncated
    r = cli("run", suite, "--out", out)
    assert r.returncode == 0 and "treated as missing" in r.stderr
    assert json.loads(cell.read_text())["rows"] == good["rows"]


def test_report_refuses_unreadable_tables_and_manifests_in_one_line(tmp_path):
    suite, out = _sweep(tmp_path)
    import shutil

    shutil.rmtree(out / "small" / "cells")  # the report then reads the stored table
    (out / "small" / "results.parquet").write_bytes(b"PAR1 not really")
    r = cli("report", "--out", out)
    assert r.returncode == 2 and "results.parquet" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    (out / "small" / "manifest.json").write_text(json.dumps({"suite": "small"}))
    r = cli("report", "--out", out)
    assert r.returncode == 2 and "manifest" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_report_readme_without_claims_writes_nothing_to_the_readme(tmp_path):
    suite, out = _sweep(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text("x\n<!-- claims-digest:start -->\nold\n<!-- claims-digest:end -->\n")
    r = cli("report", "--out", out, "--readme", readme)
    assert r.returncode == 2 and "hold no claim verdicts" in r.stderr
    assert "old" in readme.read_text()


def test_a_study_name_with_path_characters_is_refused(tmp_path):
    text = (tmp_path / "x").parent / "s.toml"
    src = write_suite(tmp_path, "s", budget=20).read_text().replace('name = "grid"', 'name = "../../x"')
    text.write_text(src)
    r = cli("run", text, "--out", tmp_path / "out")
    assert r.returncode == 2 and "study name" in r.stderr and not (tmp_path / "out").exists()
