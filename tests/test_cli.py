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
