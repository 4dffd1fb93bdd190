import subprocess
import sys

from bench.cli import main


def test_list_shows_five_methods_and_six_schedules(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    methods = out.split("methods:")[1].split("schedules:")[0].strip().splitlines()
    schedules = out.split("schedules:")[1].split(":\n")[0].strip().splitlines()
    assert [line.split()[0] for line in methods][:5] == ["uniform", "natural", "doremi", "doge", "tandem"]
    assert [line.split()[0] for line in schedules][:6] == ["twin-reset", "static", "lookahead", "persistent",
                                                            "ema", "stale"]


def test_bad_arguments_exit_2_with_one_line():
    r = subprocess.run([sys.executable, "-m", "bench.cli", "list", "bogus"], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error:")
    r = subprocess.run([sys.executable, "-m", "bench.cli", "nosuchcommand"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_run_and_reproduce_help_name_every_profile():
    from bench.suites import PROFILES

    assert set(PROFILES) >= {"quick", "full", "lm", "gpu"}
    for cmd in ("run", "reproduce"):
        r = subprocess.run([sys.executable, "-m", "bench.cli", cmd, "--help"], capture_output=True, text=True)
        assert r.returncode == 0
        text = " ".join(r.stdout.split())  # argparse wraps lines
        for name in PROFILES:
            assert f"{name}: " in text, (cmd, name)
