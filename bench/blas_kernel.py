"""One OpenBLAS kernel on every x86-64 CPU, so the controlled problems give the same bits everywhere.

OpenBLAS chooses its kernels by CPU (Haswell's on AVX2 machines, SkylakeX's on AVX-512 ones, ...),
and they sum in different orders. Most methods then differ in their last bits only (measured between
an Intel AVX-512 and an AMD machine: TANDEM, DoReMi, ODM, RegMix within 2e-7 in l1 to alpha*), but two
amplify them: DoGE's clipped step oscillates, so its last iterate on the quadratic family moved by
0.026 in l1, and a mixing-law fit's restarts nearly tie, so its chosen mixture moved by 0.30 (the
methods table's means moved in their second digit). The harness therefore asks OpenBLAS for the
Haswell kernels (AVX2 and FMA, which every x86-64 CPU of the last decade has) unless the user chose
a kernel (``OPENBLAS_CORETYPE``). OpenBLAS reads the choice when it is loaded, so it is made before
the package imports numpy (``bench/__init__``) and inherited by every worker of a sweep (a process
that imported numpy before bench keeps the kernel it loaded, and says so).

The LM stack is torch's (its own BLAS and vector kernels; bench.provenance.kernel_path records them)
and is not affected. Not a module of the numeric code: it must not import numpy.
"""

from __future__ import annotations

import os
import platform
import sys
import warnings

CORETYPE = "Haswell"


def x86_flags() -> set[str]:
    """The CPU's instruction-set flags (/proc/cpuinfo) on x86-64; empty elsewhere (also read by
    bench.provenance.cpu_isa)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def pin(environ=os.environ) -> str:
    """Ask for the Haswell kernels where the CPU has them and the user chose none; the kernel asked
    for ("" where none: another architecture, or a CPU without AVX2 and FMA). Where numpy is already
    loaded it is too late for this process: its workers are then kept on the kernel it loaded (a cell
    key holds the problem's fingerprint, which the kernel can change), with a warning."""
    if "OPENBLAS_CORETYPE" in environ:
        return environ["OPENBLAS_CORETYPE"]
    if "numpy" in sys.modules:
        kernels = loaded()
        if kernels and kernels[0].lower() != CORETYPE.lower():
            environ["OPENBLAS_CORETYPE"] = kernels[0]
            warnings.warn(f"numpy was imported before bench and OpenBLAS chose its {kernels[0]} kernels: this run "
                          f"keeps them, and its float results may differ in their last bits from other machines' "
                          f"(import bench first, or set OPENBLAS_CORETYPE={CORETYPE})", RuntimeWarning, stacklevel=2)
        return environ.get("OPENBLAS_CORETYPE", "")
    if {"avx2", "fma"} <= x86_flags():
        environ["OPENBLAS_CORETYPE"] = CORETYPE
    return environ.get("OPENBLAS_CORETYPE", "")


def loaded() -> list[str]:
    """The kernel architecture of every OpenBLAS this process has loaded (numpy's, scipy's)."""
    from threadpoolctl import threadpool_info

    return [str(i.get("architecture", "")) for i in threadpool_info() if i.get("internal_api") == "openblas"]
