"""What pinning torch's kernels costs (bench.blas_kernel.pin_torch): a training step's tokens per
second under the pin against the machine's own kernels. The kernels are chosen when torch loads, so
each measurement is a fresh process:

    python -m bench.perf.kernel_cost SIZE DTYPE STEPS     (prints one JSON line)

``test_kernel_bench.test_kernel_pin_cost`` runs it with the harness's pin and with the machine's own
path (ATen AVX-512 where the CPU has it, oneDNN and MKL unrestricted), interleaved, best of rounds.
"""

from __future__ import annotations

import json
import os
import sys
import time

import bench  # noqa: F401  first: the pin (or the caller's explicit settings) before torch loads


def main(argv=None) -> int:
    size, dtype, steps = (argv or sys.argv[1:])[:3]
    import numpy as np
    import torch

    from .lmsetup import problem

    p = problem(4, model=size, dtype=dtype)
    a = np.full(4, 0.25)
    st = p.step(p.init_state(0), a, 2)  # allocator warm-up, not timed
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        p.step(st, a, int(steps))
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"size": size, "dtype": dtype, "tokens_per_s": int(steps) * p.batch_size * p.data.seq_len / best,
                      "cpu_capability": str(torch.backends.cpu.get_cpu_capability()),
                      "mkl_cbwr": os.environ.get("MKL_CBWR", ""), "onednn": os.environ.get("ONEDNN_MAX_CPU_ISA", "")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
