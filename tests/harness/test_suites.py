"""The shipped suites are valid data for every profile, listed by `tandem-bench list`, and
`reproduce` runs every suite of a profile and then the report."""

import pytest
from harness_helpers import write_suite

import bench.suites
from bench.cli import main
from bench.suites import PROFILES, expand, load, suite_names

SHIPPED = ["claims", "methods", "schedules"]


def test_the_required_suites_are_shipped():
    assert set(SHIPPED) <= set(suite_names())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_suites_expand_for_each_of_their_profiles(name):
    suite = load(name)
    assert {"quick", "full"} <= set(suite.profiles)
    sizes = {p: len(expand(suite, p)) for p in suite.profiles if p in PROFILES}
    assert all(n > 0 for n in sizes.values())
    assert sizes["full"] >= sizes["quick"]


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_methods_suite_runs_every_method_on_every_family_with_five_seeds(profile):
    from bench.problems import family_names
    from tandem_ref.registry import default_method_names as method_names

    suite = load("methods")
    excluded = set(suite.studies[0].at(profile).exclude_methods)
    assert profile == "quick" or not excluded  # the full profile has no exception
    cells = expand(suite, profile)
    for m in set(method_names()) - excluded:
        for f in family_names():
            seeds = {c.seed for c in cells if c.method == m and c.problem == f}
            assert len(seeds) >= 5, (m, f)


def test_list_shows_the_suites(capsys):
    assert main(["list", "suites"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("suites:")
    assert [line.split()[0] for line in out.splitlines()[1:]] == suite_names()


def test_reproduce_runs_every_suite_of_the_profile_then_the_report(tmp_path, monkeypatch, capsys):
    suites = tmp_path / "suites"
    suites.mkdir()
    write_suite(suites, "one")
    write_suite(suites, "two", budget=30)
    write_suite(suites, "fullonly", text=(suites / "one.toml").read_text().replace(
        'profiles = ["quick", "full"]', 'profiles = ["full"]'))
    monkeypatch.setattr(bench.suites, "SUITE_DIR", suites)
    out = tmp_path / "out"
    assert main(["reproduce", "--profile", "quick", "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["figures", "one", "optima", "tables", "two"]
    report = (out / "report.md").read_text()
    assert "## Suite `one`" in report and "## Suite `two`" in report and "incomplete" not in report
    capsys.readouterr()
    # a second reproduce finds everything stored
    assert main(["reproduce", "--profile", "quick", "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "one: 16 cells, 0 computed" in err and "two: 16 cells, 0 computed" in err
