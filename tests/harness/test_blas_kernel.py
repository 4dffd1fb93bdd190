"""One OpenBLAS kernel on every x86-64 CPU (bench/blas_kernel.py): a cell gives the same bits whatever
kernel the machine would choose. Measured with DoGE on the quadratic family, whose oscillating last
iterate turns the kernels' different summation orders into a different mixture (l1 to alpha* 0.162
with SkylakeX's kernels, 0.136 with Haswell's, seed 4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import blas_kernel

ROOT = Path(__file__).resolve().parents[2]

# One methods-suite cell computed in a fresh process; ``numpy`` first: OpenBLAS is loaded with the
# machine's own choice before bench can ask for one. Prints the kernel loaded and the result.
SCRIPT = """
import json, sys, tempfile, warnings
from pathlib import Path
if sys.argv[1] == "numpy-first":
    import numpy
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from bench import blas_kernel
from bench.compute import Planned, compute, config_of
from bench.suites import expand, load
from bench import results
cell = next(c for c in expand(load("methods"), "quick")
            if c.labels["problem_label"] == "quadratic" and c.method == "doge" and c.seed == 4)
with tempfile.TemporaryDirectory() as d:
    compute(Planned("k", cell, config_of(cell)), Path(d))
    rec = results.read_cell(Path(d) / "k.json")
fin = [r for r in rec["rows"] if r.get("final")][-1]
print(json.dumps({"loaded": blas_kernel.loaded(), "l1": fin["l1"], "kernel": rec["provenance"]["blas_kernel"],
                  "warned": [str(w.message) for w in caught]}))
"""


def _run(mode: str, coretype: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_pin_asks_for_haswell_only_where_the_user_chose_nothing_and_the_cpu_has_it(monkeypatch):
    monkeypatch.setattr(blas_kernel, "x86_flags", lambda: {"avx2", "fma", "sse2"})
    monkeypatch.delitem(sys.modules, "numpy")  # as in a process that has not loaded it yet
    env = {}
    assert blas_kernel.pin(env) == "Haswell" and env == {"OPENBLAS_CORETYPE": "Haswell"}
    env = {"OPENBLAS_CORETYPE": "SkylakeX"}
    assert blas_kernel.pin(env) == "SkylakeX"  # the user's choice stands
    monkeypatch.setattr(blas_kernel, "x86_flags", lambda: {"sse2"})  # an old x86, or not x86 at all
    env = {}
    assert blas_kernel.pin(env) == "" and env == {}


def test_too_late_keeps_the_loaded_kernel_for_the_workers_and_warns(monkeypatch):
    monkeypatch.setattr(blas_kernel, "loaded", lambda: ["SkylakeX"])
    env = {}
    with pytest.warns(RuntimeWarning, match="imported before bench"):
        assert blas_kernel.pin(env) == "SkylakeX"
    assert env == {"OPENBLAS_CORETYPE": "SkylakeX"}  # the sweep's workers plan and compute alike


@pytest.mark.skipif("avx512f" not in blas_kernel.x86_flags(),
                    reason="needs a CPU whose own OpenBLAS choice (SkylakeX) differs from the pinned kernel")
def test_a_cell_gets_the_pinned_kernels_bits_whatever_the_machine_would_choose():
    pinned = _run("bench-first", "Haswell")  # the kernel asked for, by the environment
    assert set(pinned["loaded"]) == {"Haswell"} and pinned["kernel"] == "Haswell" and not pinned["warned"]
    # a machine whose OpenBLAS chooses SkylakeX (every AVX-512 CPU), nothing set: bench asks first
    chosen = _run("bench-first", None)
    assert set(chosen["loaded"]) == {"Haswell"} and chosen["l1"] == pinned["l1"] and not chosen["warned"]
    # what the pin prevents: that machine's own kernels give other bits (and it is said)
    other = _run("numpy-first", None)
    assert set(other["loaded"]) == {"SkylakeX"} and other["l1"] != pinned["l1"]
    assert any("imported before bench" in w for w in other["warned"])


def test_the_test_suite_itself_imports_bench_before_numpy():
    """tests/conftest.py imports bench first (an import sorter once moved it below numpy: every test
    then computed with the machine's own kernel, and said so in a warning)."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_simplex.py",
                          "-W", "error::RuntimeWarning"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0 and "imported before bench" not in out.stdout + out.stderr, out.stdout[-2000:]
