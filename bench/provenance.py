"""Where a result came from: package, commit, library versions and device, stored with every cell.

Versions are read from package metadata, not by importing (importing torch costs a second and the
theory suites never use it). The device is the problem's own (``problem.device``) when it has one.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


@functools.lru_cache(maxsize=1)
def git_commit() -> str:
    """HEAD of the checkout the package runs from, with '+dirty' when tracked files differ.

    The outputs a run itself rewrites (results/, the README's claims block) do not count: they are
    not code, and a reproduce into the committed results/ would otherwise always call itself dirty."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=_ROOT, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)results", ":(exclude)README.md"], cwd=_ROOT,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def design_commit(path: Path, at: str = "HEAD") -> str:
    """The commit that last changed a suite file (its design: seeds, margins, grids) up to commit
    ``at``, with '+dirty' where the working file differs (``at`` = HEAD only); 'unknown' outside a git
    checkout. Recorded with each sweep (run.json) so the report can say at which commit a claim's
    design was declared."""
    path = Path(path).resolve()
    try:
        rel = path.relative_to(_ROOT)
        last = subprocess.run(["git", "log", "-1", "--format=%H", at, "--", str(rel)], cwd=_ROOT,
                              capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        dirty = "" if at != "HEAD" else subprocess.run(
            ["git", "status", "--porcelain", "--", str(rel)], cwd=_ROOT, capture_output=True, text=True, timeout=10,
            check=True).stdout.strip()
    except (ValueError, OSError, subprocess.SubprocessError):
        return "unknown"
    return (last or "uncommitted") + ("+dirty" if dirty and last else "")


@functools.lru_cache(maxsize=1)
def _static() -> dict:
    return {"package_version": _version("tandem-bench"), "git_commit": git_commit(),
            "torch_version": _version("torch"), "numpy_version": _version("numpy"),
            "python_version": platform.python_version(), "machine": platform.machine()}


@functools.lru_cache(maxsize=1)
def cpu_isa() -> str:
    from .blas_kernel import x86_flags

    flags = x86_flags()
    return "+".join(f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile") if f in flags) or "unknown"


def kernel_path(uses_torch: bool = False) -> dict:
    """The CPU's math-kernel path, which decides the low bits of every float result: the
    instruction-set flags the CPU offers, the kernel torch dispatches to (ATEN_CPU_CAPABILITY can
    lower it; recorded for cells that run torch, so the record does not depend on whether some
    earlier cell in the same process imported it), and the BLAS core type (OPENBLAS_CORETYPE, set
    on some of these machines). Two machines that differ here give results that differ in the low
    bits; the verdicts must not. ``blas_kernel``: the kernels the loaded OpenBLAS uses; the harness
    asks for one on every x86-64 CPU, and for torch's AVX2 path (ATen, oneDNN, MKL's reproducible
    branch), bench.blas_kernel: the three torch settings are recorded as they were in force."""
    from .blas_kernel import loaded

    torch_cap = ""
    if uses_torch:
        import torch

        torch_cap = str(torch.backends.cpu.get_cpu_capability())
    return {"cpu_isa": cpu_isa(), "torch_cpu_capability": torch_cap,
            "aten_cpu_capability_env": os.environ.get("ATEN_CPU_CAPABILITY", ""),
            "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
            "blas_kernel": "+".join(sorted(set(loaded()))),
            "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA", ""),
            "mkl_cbwr": os.environ.get("MKL_CBWR", "")}


def provenance(problem=None) -> dict:
    device = str(getattr(problem, "device", "cpu")) if problem is not None else "cpu"
    return {**_static(), **kernel_path(uses_torch=hasattr(problem, "trainer")), "device": device}
