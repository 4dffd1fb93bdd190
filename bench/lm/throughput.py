"""Training throughput of the LM trainer: tokens per second and model FLOPs utilisation (MFU).

    python -m bench.lm.throughput --device cuda --dtype bf16 --compile --sizes 20m 85m 160m --out results/gpu

MFU = 6 N tokens/s / peak FLOP/s (the 6N-per-token estimate the trainer's cost counts; attention
FLOPs are left out, so MFU is slightly understated). The peak defaults to an H200's dense bf16
989 TFLOP/s on CUDA; on a CPU pass --peak-tflops to get an MFU. Writes OUT/throughput.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from .build import lm_problem

H200_BF16_TFLOPS = 989.0


def measure(size: str, *, steps: int = 20, warmup: int = 3, seq_len: int = 256, batch_size: int = 32,
            device: str = "cpu", dtype: str = "float32", compile=False, peak_tflops: float | None = None,
            domains: int = 4) -> dict:
    p = lm_problem(0, model=size, seq_len=seq_len, batch_size=batch_size, device=device, dtype=dtype,
                   compile=compile, domains=domains)
    alpha = np.full(len(p.domains), 1.0 / len(p.domains))
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    state = p.step(p.init_state(0), alpha, warmup)  # compilation and allocator warm-up, not timed
    sync()
    t0 = time.perf_counter()
    state = p.step(state, alpha, steps)
    sync()
    wall = time.perf_counter() - t0
    tokens = steps * batch_size * seq_len
    tps = tokens / wall
    flops = 6.0 * p.trainer.n_params * tps
    ev = p.evaluate(state, "val")
    return {"size": size, "params": p.trainer.n_params, "seq_len": seq_len, "batch_size": batch_size,
            "device": device, "dtype": dtype, "compile": compile, "steps": steps, "wall_s": wall,
            "tokens_per_s": tps, "model_tflops_per_s": flops / 1e12,
            "mfu": flops / (peak_tflops * 1e12) if peak_tflops else None,
            "val_loss_after": ev["avg_loss"], "val_ppl_after": ev["ppl"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.lm.throughput", description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", nargs="+", default=["small"])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--seq-len", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bf16"])
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--peak-tflops", type=float, default=None)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    peak = a.peak_tflops or (H200_BF16_TFLOPS if a.device.startswith("cuda") else None)
    rows = []
    for size in a.sizes:
        rows.append(measure(size, steps=a.steps, seq_len=a.seq_len, batch_size=a.batch_size, device=a.device,
                            dtype=a.dtype, compile=a.compile, peak_tflops=peak))
        r = rows[-1]
        mfu = f"{r['mfu']:.1%}" if r["mfu"] is not None else "-"
        print(f"{size}: {r['params'] / 1e6:.1f}M params, {r['tokens_per_s']:,.0f} tokens/s, MFU {mfu}", flush=True)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    info = {"torch": torch.__version__, "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None}
    (out / "throughput.json").write_text(json.dumps({"machine": info, "runs": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
