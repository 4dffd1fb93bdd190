"""One set of math kernels on every x86-64 CPU, so results give the same bits everywhere: OpenBLAS's
(numpy and scipy: the controlled problems) and torch's (the small LM).

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

torch (the LM stack) has three libraries that choose by CPU: ATen's vectorised kernels (element-wise
work, reductions, softmax: AVX-512 or AVX2), oneDNN (some float32 products and every bf16 one: up to
AMX) and MKL (sgemm). Measured on an Intel Xeon (AVX-512, AMX), 300 steps of the deciding 0.12M
model: each of the three moves the loss in its 7th digit, and an AMD machine's run of the deciding
suites moved learned mixtures by up to 7e-3 and flipped quick-profile verdicts. ``pin_torch`` asks
all three for the AVX2 path every x86-64 CPU with AVX2 and FMA shares (``ATEN_CPU_CAPABILITY=avx2``,
``ONEDNN_MAX_CPU_ISA=AVX2``, ``MKL_CBWR=AVX2``: MKL's conditional numerical reproducibility mode,
the same results on any CPU that has the branch). Each is read when torch loads, so it is set
before; a variable the user set is left as it is (``bench.provenance.kernel_path`` records all three).
Its cost, measured on the Intel machine in one thread (tox -e bench, results/perf/summary.md): the
0.12M model trains at 0.78 of the machine's own kernels' tokens per second, the 0.48M model 0.76, the
19M model 0.69 (MKL's reproducible branch is most of it). Capping
oneDNN at AVX2 also turns off the AMX bf16 units, so ``dtype = "auto"`` keeps float32 on the CPU
unless the user lifts the cap (bench.lm.build.auto_dtype).

Not a module of the numeric code: it must not import numpy or torch.
"""

from __future__ import annotations

import os
import platform
import sys
import warnings

CORETYPE = "Haswell"
# torch's libraries on the path every x86-64 CPU with AVX2 and FMA shares (read when torch loads)
TORCH_KERNELS = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "AVX2"}


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


def native_torch_kernels() -> dict:
    """The machine's own path for torch's three libraries, as explicit settings (so the pin leaves
    them alone): ATen's AVX-512 where the CPU has it, oneDNN unrestricted, MKL's automatic branch. What
    the kernel-pin tests and the pin's cost benchmark compare the pin against."""
    return {"ATEN_CPU_CAPABILITY": "avx512" if "avx512f" in x86_flags() else "avx2", "ONEDNN_MAX_CPU_ISA": "ALL",
            "MKL_CBWR": "AUTO"}


def pin_torch(environ=os.environ) -> dict:
    """Ask torch's three kernel libraries for their AVX2 path (``TORCH_KERNELS``) where the CPU has
    AVX2 and FMA, leaving any the user set; the settings in force (empty where none). Where torch is
    already loaded it is too late for this process: nothing is set (its workers then choose as it
    did), with a warning."""
    if "torch" in sys.modules:
        if any(k not in environ for k in TORCH_KERNELS):
            warnings.warn("torch was imported before bench: this run keeps the kernels torch chose for this CPU, "
                          "and its LM results may differ in their last bits from other machines' (import bench first, "
                          "or set " + " ".join(f"{k}={v}" for k, v in TORCH_KERNELS.items()) + ")",
                          RuntimeWarning, stacklevel=2)
    elif {"avx2", "fma"} <= x86_flags():
        for k, v in TORCH_KERNELS.items():
            environ.setdefault(k, v)
    return {k: environ.get(k, "") for k in TORCH_KERNELS}
