"""A small GPT: pre-norm blocks, causal scaled_dot_product_attention, tied input/output embedding.

nanoGPT's architecture without dropout (a run is then a function of the seed and the batches
only, which the bitwise resume test needs). Sizes go from a ~0.1M model that trains in seconds on
a CPU core to Pythia-like 20M/85M/160M models for the GPU profile.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from tandem_ref.errors import BadInput, unknown

from .tokens import VOCAB


@dataclass(frozen=True)
class GPTConfig:
    n_layer: int = 4
    n_head: int = 4
    d_model: int = 96
    seq_len: int = 128
    vocab: int = VOCAB

    def __post_init__(self):
        if self.d_model % self.n_head:
            raise BadInput(f"model: d_model {self.d_model} is not a multiple of n_head {self.n_head}")

    def as_dict(self) -> dict:
        return asdict(self)


# name -> (n_layer, n_head, d_model); parameter counts at vocab 257, sequence 128
SIZES = {
    "micro": (2, 2, 48),     # ~0.07M: unit tests
    "tiny": (2, 4, 64),      # ~0.12M: the LM suites' quick profile
    "small": (4, 4, 96),     # ~0.48M: DESIGN.md's measured CPU model
    "2.5m": (4, 4, 224),     # ~2.5M: the top of the CPU scale ladder (34x micro; bench/suites/scale-*.toml)
    "20m": (6, 8, 512),      # ~19M
    "85m": (12, 12, 768),    # ~85M (GPT-2 small without its 50k vocabulary)
    "160m": (12, 16, 1024),  # ~151M
}


def config(size="small", seq_len: int = 128, **overrides) -> GPTConfig:
    if isinstance(size, GPTConfig):
        return size
    if size not in SIZES:
        raise unknown("model size", size, SIZES)
    n_layer, n_head, d_model = SIZES[size]
    return GPTConfig(**{"n_layer": n_layer, "n_head": n_head, "d_model": d_model, "seq_len": seq_len, **overrides})


class Block(nn.Module):
    def __init__(self, c: GPTConfig):
        super().__init__()
        self.n_head = c.n_head
        self.ln1 = nn.LayerNorm(c.d_model)
        self.qkv = nn.Linear(c.d_model, 3 * c.d_model)
        self.proj = nn.Linear(c.d_model, c.d_model)
        self.ln2 = nn.LayerNorm(c.d_model)
        self.fc = nn.Linear(c.d_model, 4 * c.d_model)
        self.out = nn.Linear(4 * c.d_model, c.d_model)

    def forward(self, x):
        B, T, D = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=2)
        q, k, v = (t.view(B, T, self.n_head, D // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(B, T, D))
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class GPT(nn.Module):
    def __init__(self, c: GPTConfig):
        super().__init__()
        self.config = c
        self.tok = nn.Embedding(c.vocab, c.d_model)
        self.pos = nn.Embedding(c.seq_len, c.d_model)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.n_layer))
        self.ln_f = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, c.vocab, bias=False)
        self.head.weight = self.tok.weight  # weight tying (Press & Wolf 2017)

    def init_weights(self, generator: torch.Generator) -> None:
        """GPT-2 initialisation: N(0, 0.02), residual projections scaled by 1/sqrt(2 n_layer)."""
        resid_std = 0.02 / math.sqrt(2 * self.config.n_layer)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("bias"):
                    p.zero_()
                elif "ln" in name:
                    p.fill_(1.0)
                else:
                    std = resid_std if name.endswith(("proj.weight", "out.weight")) else 0.02
                    p.copy_(torch.randn(p.shape, generator=generator) * std)

    def forward(self, idx):
        """Logits (B, T, vocab) for token ids (B, T)."""
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))
        for b in self.blocks:
            x = b(x)
        return self.head(self.ln_f(x))

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())  # the tied matrix is counted once


def token_losses(logits, targets) -> torch.Tensor:
    """Per-token cross-entropy in nats, shape (B, T)."""
    return F.cross_entropy(logits.float().flatten(0, 1), targets.flatten(), reduction="none").view(targets.shape)
