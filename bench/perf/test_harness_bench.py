"""Theory and harness speed: the exact optimum of Family A, the claims catalogue, the runner's
overhead per cell, and the recorded wall time of `tandem-bench reproduce --profile quick`.

Targets here are absolute (seconds), so the ratio is seconds / target: <= 1 meets it."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.cells import Cell, key_of
from bench.perf.gate import ROOT
from bench.runner import Planned, compute, config_of
from theory.exact import optimum
from theory.families import make

from .lmsetup import min_times

REPRODUCE_WALL = ROOT / "results" / "perf" / "reproduce_wall.json"  # {"seconds": ...}, written after a reproduce


def test_family_a_optimum(benchmark, record_ratio):
    p = make("quadratic", 0, m=8, d=64)
    t = min_times({"opt": lambda: optimum(p)}, rounds=5)["opt"]
    benchmark.pedantic(lambda: optimum(p), rounds=1, iterations=1)
    record_ratio("family_a_optimum_M8_d64_vs_50ms", t / 0.050, target=1.0, seconds=t, note="exact alpha*, FW-certified")


def test_claims_catalogue(benchmark, record_ratio):
    # its own process, two threads: the catalogue as `pytest tests/claims` runs it on 2 cores
    env = dict(os.environ, OMP_NUM_THREADS="2", MKL_NUM_THREADS="2")
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "pytest", "tests/claims", "-q", "-p", "no:cacheprovider"], cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=600)
    t = time.perf_counter() - t0
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    assert r.returncode == 0, r.stdout[-2000:]
    record_ratio("claims_catalogue_vs_60s", t / 60.0, target=1.0, seconds=t, note="pytest tests/claims, one run")


def test_runner_overhead_per_cell(benchmark, record_ratio):
    cell = Cell("run", "quadratic", {"m": 2, "d": 2}, "uniform", {}, 0, budget=1, score="none")
    config = config_of(cell)
    planned = Planned(key_of(config), cell, config)
    with tempfile.TemporaryDirectory() as d:
        t = min_times({"cell": lambda: compute(planned, Path(d))}, rounds=5, inner=5)["cell"]
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    record_ratio("runner_overhead_per_cell_vs_20ms", t / 0.020, target=1.0, seconds=t,
                 note="uniform, 1 step, tiny quadratic, score none: build, run, record, atomic write")


def test_reproduce_quick_wall(benchmark, record_ratio):
    """Not run here (about ten minutes): read from the file the lead writes after a reproduce."""
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    if not REPRODUCE_WALL.exists():
        return
    t = float(json.loads(REPRODUCE_WALL.read_text())["seconds"])
    record_ratio("reproduce_quick_vs_15min", t / 900.0, target=1.0, seconds=t,
                 note=f"recorded in {REPRODUCE_WALL.relative_to(ROOT)}, not measured in this session")
