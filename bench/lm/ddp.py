"""A ``torchrun`` entry point: online mixers on the small LM under data parallelism (bench.lm.dist).

    torchrun --nproc_per_node 2 -m bench.lm.ddp --method tandem --budget 40 --out DIR

writes DIR/rank{r}-{method}.json (the mixture trajectory and a parameter checksum of each rank); the
method must be an online one (its proxy is checksummed).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch
import torch.distributed as dist

from tandem_ref.registry import get_method
from tandem_ref.resume import drive

from .build import lm_problem
from .dist import init_from_env


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.lm.ddp", description=__doc__.split("\n")[0])
    ap.add_argument("--method", nargs="+", default=["tandem"], help="online methods, run one after another")
    ap.add_argument("--budget", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", default="micro")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--seq-len", type=int, default=64)
    ap.add_argument("--domains", type=int, default=4, help="the first N embedded domains")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    d, device = init_from_env()
    problem = lm_problem(a.seed, model=a.model, batch_size=a.batch_size, seq_len=a.seq_len,
                         domains=a.domains, device=device, dist=d)
    os.makedirs(a.out, exist_ok=True)
    for name in a.method:
        method = get_method(name)
        st = drive(method, problem, a.budget, a.seed)  # the one driver of a method run (tandem_ref.resume)
        trace = method.trace(problem, st)
        checksum = float(sum(p.double().sum() for p in st.proxy.params))
        trace.save(Path(a.out) / f"rank{d.rank}-{name}.json", rank=d.rank, world=d.world, param_checksum=checksum)
    if d.world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
