"""bench: the harness (suites, runner, reports, the small-LM stack) and the command line."""

from . import blas_kernel

blas_kernel.pin()  # before numpy is first imported: one BLAS kernel on every x86-64 CPU (blas_kernel.py)
blas_kernel.pin_torch()  # before torch is: its kernels on the AVX2 path every x86-64 CPU shares

import theory  # noqa: E402, F401  (registers the methods that need theory's exact solvers: "oracle")
