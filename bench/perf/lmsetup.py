"""Shared set-up of the LM benchmarks: a synthetic corpus with any number of domains (no dependence
on the Python installation's size), LM problems on it, and where a step's time goes."""

from __future__ import annotations

import numpy as np
import torch

from bench.lm.build import lm_problem
from bench.lm.corpus import Corpus, Domain

_CORPORA: dict[int, Corpus] = {}


def corpus(m: int) -> Corpus:
    """m byte-level domains, each its own alphabet slice, 24 documents of 600 bytes."""
    if m not in _CORPORA:
        rng = np.random.default_rng(m)
        doms = []
        for i in range(m):
            alphabet = np.frombuffer(bytes(range(32 + i % 64, 32 + i % 64 + 24)) + b" \n", dtype=np.uint8)
            doms.append(Domain(f"d{i:02d}", tuple(bytes(rng.choice(alphabet, 600)) for _ in range(24)), "synthetic"))
        _CORPORA[m] = Corpus(tuple(doms))
    return _CORPORA[m]


def problem(m: int, model: str = "tiny", batch_size: int = 16, seq_len: int = 64, **kw):
    torch.set_num_threads(1)  # one core: the lead's jobs share the other; ratios are what the gate reads
    kw.setdefault("eval_batch", max(1, batch_size // m))  # a stratified evaluation batch of ~batch_size rows
    return lm_problem(0, corpus=corpus(m), model=model, seq_len=seq_len, batch_size=batch_size, warmup=2, **kw)


def growth_exponent(xs, ys) -> float:
    """Least-squares slope of log y on log x: cost ~ x^slope."""
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


MATMUL_OPS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm")


def kernel_shares(fn, calls: int = 3) -> dict[str, float]:
    """Shares of ``fn``'s CPU time (torch.profiler, self time of each op over ``calls`` calls):
    "matmul" (the linear layers' products), "attention" (the fused attention kernels, forward and
    backward), and every other op by name: where the time that does no model FLOPs goes."""
    from torch.profiler import ProfilerActivity, profile

    fn()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(calls):
            fn()
    times: dict[str, float] = {}
    for e in prof.key_averages():
        key = ("matmul" if e.key in MATMUL_OPS else "attention" if "scaled_dot_product" in e.key
               else e.key.removeprefix("aten::"))
        times[key] = times.get(key, 0.0) + e.self_cpu_time_total
    total = sum(times.values())
    return {k: v / total for k, v in sorted(times.items(), key=lambda kv: -kv[1])}
