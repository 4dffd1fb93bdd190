"""What the kernel pin costs (bench.blas_kernel.pin_torch): tokens per second under the pin against the
machine's own kernels, per model size, each in a fresh process (the kernels are chosen when torch loads)."""


PIN_COST_RUNS = (("tiny", "float32", 60), ("small", "float32", 20), ("20m", "float32", 2))


def _kernel_run(size: str, dtype: str, steps: int, env: dict) -> dict:
    import json
    import os
    import subprocess
    import sys

    from bench.blas_kernel import TORCH_KERNELS

    base = {k: v for k, v in os.environ.items() if k not in TORCH_KERNELS}
    out = subprocess.run([sys.executable, "-m", "bench.perf.kernel_cost", size, dtype, str(steps)],
                         env={**base, **env}, capture_output=True, text=True, timeout=600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_kernel_pin_cost(benchmark, record_ratio, record_section):
    """Tokens per second of a training step under the harness's kernel pin (AVX2 for ATen, oneDNN and
    MKL's reproducible branch: the same bits on every x86-64 CPU) against the machine's own kernels,
    per model size, each in a fresh process, pinned and native interleaved (best of 3 timings each);
    and what bf16 autocast gains at 20m when the user lifts the oneDNN cap (the AMX units)."""
    from bench.blas_kernel import native_torch_kernels

    rows, ratio, pinned_at = [], {}, {}
    for size, dtype, steps in PIN_COST_RUNS:
        pinned, native = _kernel_run(size, dtype, steps, {}), _kernel_run(size, dtype, steps, native_torch_kernels())
        ratio[size], pinned_at[size] = pinned["tokens_per_s"] / native["tokens_per_s"], pinned["tokens_per_s"]
        rows.append(f"| {size} | {dtype} | {pinned['tokens_per_s']:,.0f} ({pinned['cpu_capability']}, MKL "
                    f"{pinned['mkl_cbwr']}) | {native['tokens_per_s']:,.0f} ({native['cpu_capability']}) | "
                    f"{ratio[size]:.2f} |")
    bf16 = _kernel_run("20m", "bf16", 2, native_torch_kernels())
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    record_section("What the kernel pin costs (one thread, 16 x 64 tokens, AdamW step)",
                   "torch's kernels pinned to the AVX2 path every x86-64 CPU shares (bench.blas_kernel) against "
                   "the machine's own (ATen's widest vectors, oneDNN and MKL unrestricted), each in a fresh "
                   "process.\n\n| model | dtype | pinned tok/s | machine's own tok/s | pinned / own |\n"
                   "|---|---|---|---|---|\n" + "\n".join(rows)
                   + f"\n\nbf16 autocast at 20m with the oneDNN cap lifted (`ONEDNN_MAX_CPU_ISA=ALL`, the user's "
                     f"choice; recorded in provenance): {bf16['tokens_per_s']:,.0f} tok/s, "
                     f"{bf16['tokens_per_s'] / pinned_at['20m']:.2f}x the pinned float32 step. No "
                     f"committed cell uses it: `dtype = \"auto\"` keeps float32 on the CPU under the pin.")
    for size, _, _ in PIN_COST_RUNS:
        record_ratio(f"lm_tokens_per_s_pinned_vs_own_kernels_{size}", ratio[size], target=0.7, higher_is_better=True,
                     gated=False, note="the price of the same bits on every x86-64 CPU (bench.blas_kernel)")
