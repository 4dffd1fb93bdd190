"""SIGKILL the runner mid-sweep at several points, resume, and get exactly the results of an
uninterrupted run, with no partial file left behind."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from harness_helpers import ROOT, cli, comparable, write_suite

from bench.results import TMP_PREFIX

# score = "none": the keys then do not depend on theory's source, which may change between the runs
SUITE = """
[[study]]
name = "before"
problems = ["quadratic"]
methods = ["tandem", "doremi", "doge"]
seeds = 6
budget = 1500
log_points = 4
score = "none"

[[study]]
name = "long"
problems = ["quadratic"]
methods = ["tandem"]
budget = 30000
log_points = 10
score = "none"
checkpoint_every = 100

[[study]]
name = "after"
problems = ["balanced"]
methods = ["tandem"]
seeds = 8
budget = 1500
score = "none"
"""


def _start(suite, out, jobs):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "bench.cli", "run", str(suite), "--out", str(out),
                             "--jobs", str(jobs), "--quiet"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill_when(proc, ready, timeout=60.0) -> bool:
    """SIGKILL the runner's whole process group as soon as ``ready()``; False if it finished first."""
    t0 = time.monotonic()
    while not ready():
        if proc.poll() is not None or time.monotonic() - t0 > timeout:
            proc.wait()
            return False
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return True


def test_killed_sweeps_resume_to_the_uninterrupted_result(tmp_path):
    suite = write_suite(tmp_path, "killme", text=SUITE)
    ref = cli("run", suite, "--out", tmp_path / "ref", "--jobs", "1", "--quiet")
    assert ref.returncode == 0, ref.stderr
    out = tmp_path / "out"
    cells = out / "killme" / "cells"
    done = lambda: len(list(cells.glob("*.json"))) if cells.is_dir() else 0  # noqa: E731
    kills = [
        (1, lambda: done() >= 2),  # early, serial
        (2, lambda: done() >= 12),  # mid-sweep, two worker processes
        (1, lambda: bool(list(cells.glob("*.state.npz")))),  # inside the long cell, after a checkpoint
        (1, lambda: done() >= 30),  # late
    ]
    killed = 0
    for jobs, ready in kills:
        killed += _kill_when(_start(suite, out, jobs), ready)
    assert killed >= 3  # the sweep really was interrupted several times
    final = cli("run", suite, "--out", out, "--jobs", "1", "--quiet")
    assert final.returncode == 0, final.stderr
    a = pd.read_parquet(tmp_path / "ref" / "killme" / "results.parquet")
    b = pd.read_parquet(out / "killme" / "results.parquet")
    assert a["key"].nunique() == b["key"].nunique() == 6 * 3 + 1 + 8
    pd.testing.assert_frame_equal(comparable(a), comparable(b))
    assert not list(out.rglob(TMP_PREFIX + "*"))
    assert not list(out.rglob("*.state.npz"))


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_workers_exit_when_the_sweep_is_killed(tmp_path):
    """SIGKILL of the parent of `run --jobs 2` alone (not its process group): its workers notice
    within seconds and exit, instead of computing cells nobody waits for."""
    suite = write_suite(tmp_path, "orphans", text=SUITE)
    out = tmp_path / "out"
    proc = _start(suite, out, 2)
    try:
        t0 = time.monotonic()
        workers = []
        while len(workers) < 2 and time.monotonic() - t0 < 60:
            workers = [c for c in _children(proc.pid) if "bench" in Path(f"/proc/{c}/cmdline").read_text()
                       or "multiprocessing" in Path(f"/proc/{c}/cmdline").read_text()]
            time.sleep(0.05)
        assert len(workers) >= 2, "the sweep did not start its workers"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        t0 = time.monotonic()
        while any(_alive(w) for w in workers) and time.monotonic() - t0 < 15:
            time.sleep(0.1)
        assert not any(_alive(w) for w in workers), "workers outlived the killed sweep"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    # what the killed sweep finished is kept, and a new sweep completes the rest
    final = cli("run", suite, "--out", out, "--jobs", "1", "--quiet")
    assert final.returncode == 0, final.stderr


def test_a_second_writer_on_one_folder_refuses_with_one_line(tmp_path):
    from bench.results import writer_lock

    small = SUITE.replace("seeds = 6", "seeds = 1").replace("seeds = 8", "seeds = 1").replace("30000", "300")
    suite = write_suite(tmp_path, "locked", text=small)
    out = tmp_path / "out"
    with writer_lock(out / "locked"):
        busy = cli("run", suite, "--out", out, "--jobs", "1", "--quiet")
        assert busy.returncode == 2
        lines = busy.stderr.strip().splitlines()
        assert len(lines) == 1 and "another tandem-bench run" in lines[0] and f"pid {os.getpid()}" in lines[0]
        assert not (out / "locked" / "cells").exists()  # nothing written by the refused run
    ok = cli("run", suite, "--out", out, "--jobs", "1", "--quiet")  # the lock is gone with its holder
    assert ok.returncode == 0, ok.stderr
