"""Data parallelism on torch.distributed (gloo on CPU, NCCL on GPU).

Every rank builds the same global batch (its composition is a function of the seed and the step),
takes the rows ``rank::world`` with their global loss weights, and sums gradients and per-domain
loss sums over the ranks. So every rank takes the same step, computes the same per-domain signals
and holds the same mixture, with no rank-0 broadcast of the mixture needed. The ``torchrun`` entry
point is bench.lm.ddp."""

from __future__ import annotations

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
