"""The performance gate itself: verdicts, and a deliberately slowed step failing `tox -e bench`."""

import os
import subprocess
import sys
from pathlib import Path

from bench.perf.gate import Measurement, judge

ROOT = Path(__file__).resolve().parents[1]


def test_verdicts():
    assert judge(Measurement("a", 1.05, target=1.10), baseline=1.0).verdict == "ok"
    assert judge(Measurement("a", 1.12, target=1.10), baseline=1.0).verdict == "misses target"
    assert judge(Measurement("a", 1.20, target=None), baseline=1.0).verdict == "regressed"  # +20% > 10%
    assert judge(Measurement("a", 1.09, target=None), baseline=1.0).verdict == "ok"
    assert judge(Measurement("a", 0.80, target=0.95, higher_is_better=True), baseline=None).verdict == "misses target"
    assert judge(Measurement("a", 0.96, target=0.95, higher_is_better=True), baseline=1.2).verdict == "regressed"
    assert judge(Measurement("a", 3.0, target=None), baseline=None).verdict == "new"
    # a known miss is reported, not failed, but still guarded against regressing
    assert judge(Measurement("a", 3.0, target=2.5, known_miss=True), baseline=3.0).verdict == "known miss"
    assert judge(Measurement("a", 3.5, target=2.5, known_miss=True), baseline=3.0).verdict == "regressed"


def test_a_slowed_step_fails_the_gate(tmp_path):
    env = dict(os.environ, TANDEM_BENCH_SLOWDOWN="0.0002")
    r = subprocess.run([sys.executable, "-m", "pytest", "bench/perf/test_core_bench.py", "--benchmark-enable",
                        "--benchmark-only", "-p", "no:cacheprovider", "--perf-no-write", "-q"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stdout[-2000:]
    assert "tandem_episode_quadratic_M8_d64: regressed" in r.stdout
