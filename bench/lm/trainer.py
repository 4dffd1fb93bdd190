"""The one trainer every method uses: a functional GPT, AdamW on explicit state, per-token losses.

A model state is plain tensors (parameters, AdamW moments, step counter), not a module, so a twin
is a copy of the tensors and the optimizer state travels with it (TANDEM's reference is the
proxy *with its moments* at the synchronisation). One module holds the architecture and is
called with a state's tensors (``torch.func.functional_call``).

A gradient step minimises sum over tokens of weight(token) * loss(token): the caller's weights
say how the tokens are mixed (alpha-reweighted per domain, or the plain mean of an alpha-sampled
batch, plus a weighted validation term), so one step function serves every objective. Under
data parallelism each rank holds a shard of the rows with their global weights and the gradient
is all-reduced (summed), so every rank takes the same step.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch.func import functional_call

from tandem_ref.errors import BadInput

from .dist import LOCAL, Dist
from .model import GPT, GPTConfig, token_losses


@dataclass(frozen=True)
class TrainConfig:
    lr: float = 3e-3
    warmup: int = 20  # linear warm-up steps
    decay_steps: int | None = None  # cosine decay to min_lr * lr over these steps; None: constant after warm-up
    min_lr: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    weight_decay: float = 0.1
    eps: float = 1e-8
    grad_clip: float | None = 1.0
    device: str = "cpu"
    dtype: str = "float32"  # "bf16": bfloat16 autocast of the forward pass (GPU)
    compile: bool | str = False  # torch.compile the forward (True: inductor; or a backend name)

    def __post_init__(self):
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise BadInput(f"lr: expected a positive number, got {self.lr!r}")
        if self.dtype not in ("float32", "bf16"):
            raise BadInput(f"dtype: expected 'float32' or 'bf16', got {self.dtype!r}")
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise BadInput(f"device: {self.device!r} asked for, but CUDA is not available here (the gpu profile "
                           "needs a GPU)")

    def as_dict(self) -> dict:
        return asdict(self)

    def lr_at(self, step: int, base: float | None = None) -> float:
        base = self.lr if base is None else base
        if step < self.warmup:
            return base * (step + 1) / self.warmup
        if self.decay_steps is None:
            return base
        frac = min(1.0, (step - self.warmup) / max(1, self.decay_steps - self.warmup))
        return base * (self.min_lr + (1 - self.min_lr) * 0.5 * (1 + math.cos(math.pi * frac)))


@dataclass
class LMState:
    """Parameters, AdamW moments, optimizer step (also the position of the batch stream), the seed
    of the batch stream, and the training sequences consumed per domain."""

    params: list[torch.Tensor]
    exp_avg: list[torch.Tensor]
    exp_avg_sq: list[torch.Tensor]
    step: int
    seed: int
    cursor: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def copy(self) -> "LMState":
        c = lambda ts: [t.detach().clone() for t in ts]  # noqa: E731
        return LMState(c(self.params), c(self.exp_avg), c(self.exp_avg_sq), self.step, self.seed, self.cursor.copy())


class Trainer:
    def __init__(self, model: GPTConfig, train: TrainConfig = TrainConfig(), dist: Dist = LOCAL):
        self.config, self.train, self.dist = model, train, dist
        self.device = torch.device(train.device)
        self.module = GPT(model).to(self.device)
        self.names = [n for n, _ in self.module.named_parameters()]  # the tied matrix once
        self.decay = [p.dim() >= 2 for p in self.module.parameters()]  # no decay on biases and norms
        self.n_params = self.module.n_params()
        fwd = lambda params, x: functional_call(self.module, dict(zip(self.names, params)), (x,))  # noqa: E731
        if train.compile:
            fwd = torch.compile(fwd, backend="inductor" if train.compile is True else train.compile)
        self._forward = fwd
        self.wall = 0.0  # seconds spent in steps and evaluations

    # --- states ---------------------------------------------------------------------------
    def init_state(self, seed: int, n_domains: int) -> LMState:
        self.module.init_weights(torch.Generator().manual_seed(int(seed)))  # on CPU: same init on any device
        params = [p.detach().clone() for p in self.module.parameters()]
        zeros = lambda: [torch.zeros_like(p) for p in params]  # noqa: E731
        return LMState(params, zeros(), zeros(), 0, int(seed), np.zeros(n_domains, dtype=np.int64))

    def _autocast(self):
        if self.train.dtype == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    # --- losses and steps -------------------------------------------------------------------
    def _tensors(self, rows: np.ndarray, weights: np.ndarray | None = None):
        x = torch.as_tensor(rows.astype(np.int64), device=self.device)
        w = None if weights is None else torch.as_tensor(weights, dtype=torch.float32, device=self.device)
        return x[:, :-1], x[:, 1:], w

    def token_losses(self, params, rows: np.ndarray, correct: bool = False):
        """Per-token losses (n, T) of a state's parameters on sequences (n, T + 1), no gradient;
        with ``correct``, also whether each target is the argmax prediction."""
        t0 = time.perf_counter()
        x, y, _ = self._tensors(rows)
        with torch.no_grad(), self._autocast():
            logits = self._forward(params, x)
            out = token_losses(logits, y)
        self.wall += time.perf_counter() - t0
        return (out, logits.argmax(-1) == y) if correct else out

    def gradient(self, params, rows: np.ndarray, weights: np.ndarray) -> list[torch.Tensor]:
        """grad of sum over tokens of weights * loss; the weights (n, T) carry the loss mask and
        the normalisation; summed over ranks."""
        t0 = time.perf_counter()
        x, y, w = self._tensors(rows, weights)
        leaves = [p.detach().requires_grad_(True) for p in params]
        with self._autocast():
            loss = (token_losses(self._forward(leaves, x), y) * w).sum()
        grads = list(torch.autograd.grad(loss, leaves))
        self.dist.all_reduce(grads)
        self.wall += time.perf_counter() - t0
        return grads

    def apply(self, state: LMState, grads: list[torch.Tensor], lr: float | None = None) -> None:
        """One AdamW step in place (PyTorch's AdamW arithmetic), after global-norm clipping."""
        t0 = time.perf_counter()
        c = self.train
        with torch.no_grad():
            if c.grad_clip is not None:
                norm = torch.sqrt(sum((g.float() ** 2).sum() for g in grads))
                scale = torch.clamp(c.grad_clip / (norm + 1e-6), max=1.0)
                grads = [g * scale for g in grads]
            step = state.step + 1
            eta = c.lr_at(state.step, lr)
            bc1, bc2 = 1 - c.beta1 ** step, 1 - c.beta2 ** step
            for p, g, m, v, decay in zip(state.params, grads, state.exp_avg, state.exp_avg_sq, self.decay):
                if decay:
                    p.mul_(1 - eta * c.weight_decay)
                m.lerp_(g, 1 - c.beta1)
                v.mul_(c.beta2).addcmul_(g, g, value=1 - c.beta2)
                p.addcdiv_(m, (v.sqrt() / math.sqrt(bc2)).add_(c.eps), value=-eta / bc1)
        state.step = step
        self.wall += time.perf_counter() - t0


def flat(tensors) -> torch.Tensor:
    return torch.cat([t.reshape(-1).float() for t in tensors])
