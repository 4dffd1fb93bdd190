"""What the parts of an online mixer see at each update (research/theory.md section 3): the problem,
the twins (proxy and reference), the mixture, the loop's randomness and a memory the stateful parts
keep across updates (saved with the loop state)."""

from __future__ import annotations

from typing import Any

import numpy as np


class LoopContext:
    """What a schedule and a signal see: the problem, the twins, the mixture and the randomness."""

    def __init__(self, problem, alpha, rng, seed, proxy_lr=None, ref_lr=None, ref_val_weight=1.0):
        self.problem = problem
        self.alpha = alpha
        self.rng = rng
        self.seed = seed
        self.proxy_lr = proxy_lr
        self.ref_lr = ref_lr
        self.ref_val_weight = ref_val_weight
        self.proxy: Any = None
        self.reference: Any = None
        self.t = 0  # index of the current alpha update
        self.memory: dict = {}  # arrays a stateful part keeps across updates; saved with the loop state

    def sub_rng(self) -> np.random.Generator:
        """A fresh stream drawn from the loop's rng (reproducible, and resumable)."""
        return np.random.default_rng(int(self.rng.integers(2**63)))

    def probe_twins(self, k: int) -> int:
        """Advance proxy and reference k steps from where they are, with common random numbers
        (the same mini-batches and noise for both twins, so their gap measures the extra data and
        not sampling noise): the proxy on G_alpha, the reference on G_alpha + val_weight L_val."""
        seed = int(self.rng.integers(2**63))
        p = self.problem
        self.proxy = p.step(self.proxy, self.alpha, k, lr=self.proxy_lr, rng=np.random.default_rng(seed))
        self.reference = p.step(self.reference, self.alpha, k, val_weight=self.ref_val_weight,
                                lr=self.ref_lr, rng=np.random.default_rng(seed))
        return k
