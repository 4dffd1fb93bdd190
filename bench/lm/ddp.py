"""Data parallelism on torch.distributed (gloo on CPU, NCCL on GPU), and a ``torchrun`` entry point.

Every rank builds the same global batch (its composition is a function of the seed and the step),
takes the rows ``rank::world`` with their global loss weights, and sums gradients and per-domain
loss sums over the ranks. So every rank takes the same step, computes the same per-domain signals
and holds the same mixture, with no rank-0 broadcast of the mixture needed.

    torchrun --nproc_per_node 2 -m bench.lm.ddp --method tandem --budget 40 --out DIR

writes DIR/rank{r}-{method}.json (the mixture trajectory and a parameter checksum of each rank); the
method must be an online one (its proxy is checksummed).
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1

    def rows(self, n: int) -> slice:
        """This rank's share of n globally indexed rows."""
        return slice(self.rank, n, self.world)

    def all_reduce(self, tensors: list[torch.Tensor]) -> None:
        """Sum tensors over ranks in place (one flat buffer: one collective per call)."""
        if self.world == 1 or not tensors:
            return
        buf = torch.cat([t.reshape(-1) for t in tensors])
        dist.all_reduce(buf)
        i = 0
        for t in tensors:
            t.copy_(buf[i:i + t.numel()].view_as(t))
            i += t.numel()

    def sum(self, array: np.ndarray) -> np.ndarray:
        """Sum a float64 array over ranks (per-domain loss sums and counts)."""
        if self.world == 1:
            return array
        t = torch.as_tensor(np.ascontiguousarray(array, dtype=np.float64))
        if dist.get_backend() == "nccl":
            t = t.cuda()
        dist.all_reduce(t)
        return t.cpu().numpy()


LOCAL = Dist()


def init_from_env() -> tuple[Dist, str]:
    """Join the process group torchrun describes in the environment; (Dist, device)."""
    if "WORLD_SIZE" not in os.environ or int(os.environ["WORLD_SIZE"]) == 1:
        return LOCAL, "cuda" if torch.cuda.is_available() else "cpu"
    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")
    rank = dist.get_rank()
    device = "cpu"
    if cuda:
        local = int(os.environ.get("LOCAL_RANK", 0))
        torch.cuda.set_device(local)
        device = f"cuda:{local}"
    return Dist(rank, dist.get_world_size()), device


def main(argv=None) -> int:
    from tandem_ref.registry import get_method

    from .problem import lm_problem

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
        st = method.advance(problem, method.start(problem, a.budget, a.seed))
        trace = method.trace(problem, st)
        checksum = float(sum(p.double().sum() for p in st.proxy.params))
        with open(os.path.join(a.out, f"rank{d.rank}-{name}.json"), "w") as f:
            json.dump({"rank": d.rank, "world": d.world, "alpha": trace.alpha.tolist(), "output": trace.output.tolist(),
                       "scores": trace.scores.tolist(), "param_checksum": checksum, "cost": trace.cost}, f)
    if d.world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
