"""torch's kernels pinned as OpenBLAS's are (bench/blas_kernel.py): ATen, oneDNN and MKL on the AVX2
path every x86-64 CPU shares, unless the user chose. Discriminating cell: ``tandem-bench mix`` with
TANDEM on three domains of real text (standard-library modules), 40 proxy steps of the micro model.
Measured on an Intel Xeon (AVX-512, AMX): with any one of the three libraries on the machine's own
path, the learned weights move in their 8th digit (0.33195320 against 0.33195319 for one domain);
under the pin, setting nothing and setting the three variables by hand give the same bits."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import warnings
from pathlib import Path

import pytest

from bench import blas_kernel

ROOT = Path(__file__).resolve().parents[2]
PIN = blas_kernel.TORCH_KERNELS
# each library on this machine's own path (explicit settings, so the pin leaves them alone)
NATIVE = blas_kernel.native_torch_kernels()
MODULES = {"json": ["json/__init__.py", "json/decoder.py", "json/encoder.py", "json/scanner.py"],
           "config": ["csv.py", "configparser.py", "netrc.py"], "text": ["textwrap.py", "shlex.py", "string.py"]}


def test_pin_sets_only_what_the_user_left_and_only_on_avx2_cpus(monkeypatch):
    monkeypatch.setattr(blas_kernel, "x86_flags", lambda: {"avx2", "fma", "avx512f"})
    monkeypatch.delitem(sys.modules, "torch", raising=False)  # as in a process that has not loaded it
    env = {}
    assert blas_kernel.pin_torch(env) == PIN and env == PIN
    env = {"MKL_CBWR": "AUTO"}
    assert blas_kernel.pin_torch(env) == {**PIN, "MKL_CBWR": "AUTO"}  # the user's choice stands
    monkeypatch.setattr(blas_kernel, "x86_flags", lambda: {"sse2"})  # an old x86, or not x86 at all
    env = {}
    assert blas_kernel.pin_torch(env) == {k: "" for k in PIN} and env == {}


def test_too_late_for_torch_sets_nothing_and_warns(monkeypatch):
    import torch  # noqa: F401

    monkeypatch.setattr(blas_kernel, "x86_flags", lambda: {"avx2", "fma"})
    env = {}
    with pytest.warns(RuntimeWarning, match="torch was imported before bench"):
        blas_kernel.pin_torch(env)
    assert env == {}  # its workers then choose as it did
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert blas_kernel.pin_torch(dict(PIN)) == PIN  # all set by the user: nothing to say


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    lib = Path(sysconfig.get_paths()["stdlib"])
    root = tmp_path_factory.mktemp("corpus")
    for name, files in MODULES.items():
        (root / name).mkdir()
        for f in files:
            shutil.copy(lib / f, root / name / Path(f).name)
    return root


def _intel() -> bool:
    try:
        return "GenuineIntel" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def _mix(corpus: Path, out: Path, env_extra: dict, first: str = "") -> dict:
    env = {k: v for k, v in os.environ.items() if k not in PIN}
    env.update(env_extra)
    args = ["mix", "--data", *(str(corpus / n) for n in MODULES), "--model", "micro", "--seq-len", "32",
            "--batch-size", "8", "--budget", "40", "--threads", "1", "--quiet", "--out", str(out)]
    code = f"import {first}\n" if first else ""
    code += "import sys\nfrom bench.cli import main\nsys.exit(main(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-W", "always", "-c", code, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {"weights": json.loads(out.read_text())["weights"], "stderr": proc.stderr}


@pytest.mark.skipif(not {"avx2", "fma"} <= blas_kernel.x86_flags(), reason="the pin applies to x86-64 with AVX2")
def test_mix_gives_the_pinned_bits_with_nothing_set(corpus, tmp_path):
    default = _mix(corpus, tmp_path / "default.json", {})
    explicit = _mix(corpus, tmp_path / "explicit.json", PIN)
    assert default["weights"] == explicit["weights"]  # bitwise: floats compared exactly


@pytest.mark.skipif("avx512f" not in blas_kernel.x86_flags(),
                    reason="needs a CPU whose own kernels (AVX-512) differ from the pinned AVX2 path")
@pytest.mark.parametrize("lifted", sorted(NATIVE))
def test_each_library_on_the_machines_own_path_gives_other_bits(corpus, tmp_path, lifted):
    """What the pin prevents, one library at a time: the cell is discriminating for each of them. MKL's
    dispatcher reads the CPU's vendor: on a CPU not made by Intel its own path is the AVX2 one (an AMD
    EPYC here gave the pinned bits), so there the cell must give the same bits, and the pin costs
    nothing in MKL."""
    pinned = _mix(corpus, tmp_path / "pinned.json", PIN)
    native = _mix(corpus, tmp_path / "native.json", {**PIN, lifted: NATIVE[lifted]})
    if lifted == "MKL_CBWR" and not _intel():
        assert native["weights"] == pinned["weights"]
        return
    assert native["weights"] != pinned["weights"]
    assert sorted(native["weights"]) == sorted(pinned["weights"])
    assert max(abs(native["weights"][d] - pinned["weights"][d]) for d in MODULES) < 1e-4  # low bits only


@pytest.mark.skipif("avx512f" not in blas_kernel.x86_flags(),
                    reason="needs a CPU whose own kernels (AVX-512) differ from the pinned AVX2 path")
def test_torch_imported_before_bench_keeps_the_machines_kernels_and_says_so(corpus, tmp_path):
    pinned = _mix(corpus, tmp_path / "pinned.json", {})
    late = _mix(corpus, tmp_path / "late.json", {}, first="torch")
    assert "torch was imported before bench" in late["stderr"]
    assert late["weights"] != pinned["weights"]
