"""How a suite's settings become an LM problem: the corpus, its tokenized data (kept in an explicit
cache), and the validated settings of ``LMProblem`` and its Stage Two.

The harness's problem "lm" is ``lm_problem`` (bench.problems); the supervised tasks' "lm-sft" is
bench.lm.sft.sft_problem, which builds on ``make``.
"""

from __future__ import annotations

import json
import os

from tandem_ref.errors import BadInput, require_int

from .corpus import Corpus, embedded_corpus, read_domains
from .dist import LOCAL, Dist
from .model import config as model_config
from .problem import LMProblem, Pretrained, StageTwo
from .tokens import TokenData, tokenize
from .trainer import TrainConfig


class TokenCache:
    """Tokenized data by (corpus fingerprint, domains, sequence length, training caps): a sweep builds
    one problem per cell, and tokenizes each setting's data once per process."""

    def __init__(self):
        self._data: dict[tuple, TokenData] = {}

    def get(self, corpus: Corpus, domains: list[str], seq_len: int, train_tokens) -> TokenData:
        key = (corpus.fingerprint, tuple(domains), seq_len, json.dumps(train_tokens, sort_keys=True))
        if key not in self._data:
            self._data[key] = tokenize(corpus.select(domains), seq_len, train_tokens)
        return self._data[key]

    def clear(self) -> None:
        self._data.clear()


TOKENIZED = TokenCache()  # this process's

# bf16 autocast against float32 on these CPUs (AMX units; results/perf/summary.md, one thread): 0.44x the
# speed at d_model 64, 0.5x at 96, 1.45x at 512 (DESIGN.md: 1.6x at 256). Below this width the casts
# cost more than the products save.
BF16_FROM_D_MODEL = 256


# oneDNN ISA caps (ONEDNN_MAX_CPU_ISA) below the first with bf16 instructions (AVX512_CORE_BF16)
_NO_BF16_ISAS = {"SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI"}


def onednn_bf16_allowed(environ=os.environ) -> bool:
    """Whether oneDNN may use the CPU's bf16 units under the ISA cap in force."""
    return environ.get("ONEDNN_MAX_CPU_ISA", "ALL").strip().upper() not in _NO_BF16_ISAS


def auto_dtype(model, seq_len: int, device: str) -> str:
    """What ``dtype = "auto"`` (the default) means: bf16 autocast where it is faster, float32
    elsewhere. On a GPU: bf16 where the device supports it. On a CPU: bf16 from d_model
    ``BF16_FROM_D_MODEL`` on, and only with native bf16 units (AMX or AVX512-BF16) that oneDNN may
    use: the harness caps oneDNN at AVX2 for the same bits on every CPU (bench.blas_kernel), so by
    default the CPU runs float32; ``ONEDNN_MAX_CPU_ISA=AVX512_CORE_AMX`` (or ``ALL``) lifts the cap,
    and provenance records it. Where bf16 is
    chosen its loss curve agrees with float32's within the seed-to-seed spread (``tox -e bench``:
    bf16_vs_fp32_loss_curve)."""
    import torch

    from ..provenance import cpu_isa

    if device.startswith("cuda"):
        return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "float32"
    native = any(f in cpu_isa().split("+") for f in ("amx_bf16", "avx512_bf16")) and onednn_bf16_allowed()
    return "bf16" if native and model_config(model, seq_len).d_model >= BF16_FROM_D_MODEL else "float32"


def lm_problem(seed: int = 0, *, corpus: Corpus | None = None, domains=None, seq_len: int = 128,
               train_tokens=None, val_weights=None, finetune_domain: str | None = None,
               cache: TokenCache | None = None, **settings) -> LMProblem:
    """The small byte-level GPT on text domains (the embedded Python-installation corpus by default).

    ``domains``: names, or N for the first N domains; ``train_tokens`` caps unique training tokens
    per domain (data-restricted);
    ``val_weights``: the validation objective (a domain name: a fine-tuning target, which may lie
    outside the mixture); ``cache``: where tokenized data are kept (``TOKENIZED``, this process's,
    by default). Other settings: see ``make``."""
    cache = TOKENIZED if cache is None else cache
    require_int("problem 'lm': seq_len", seq_len, 2)
    if isinstance(corpus, (str, list, tuple)):  # a suite's corpus = "PATH" or ["NAME=PATH", ...] (as `mix`)
        corpus = read_domains([corpus] if isinstance(corpus, str) else list(corpus))
    elif corpus is not None and not isinstance(corpus, Corpus):
        raise BadInput(f"problem 'lm': corpus must be a path or a list of [NAME=]PATH, got {corpus!r}")
    corpus = embedded_corpus() if corpus is None else corpus
    if isinstance(domains, int):
        domains = corpus.names[:domains]
    data_domains = list(corpus.names if domains is None else domains)
    extra = [] if val_weights is None else [val_weights] if isinstance(val_weights, str) else list(val_weights)
    extra += [finetune_domain] if finetune_domain else []
    data_domains += [d for d in dict.fromkeys(extra) if d not in data_domains]
    data = cache.get(corpus, data_domains, seq_len, train_tokens)
    return make(data, seed, domains=domains, val_weights=val_weights, finetune_domain=finetune_domain, **settings)


def make(data: TokenData, seed: int = 0, *, domains=None, model="small", batch_size: int = 16,
         mixing: str = "reweight", lr: float = 3e-3, warmup: int = 20, eval_batch: int = 4,
         val_batch: int | None = None, val_weights=None, device: str = "cpu", dtype: str = "auto",
         compile=False, dist: Dist = LOCAL, eval_seqs: int = 32,
         stage_two_steps: int = 0, finetune_steps: int = 0, finetune_domain: str | None = None,
         curve_every: int = 0, stage_two_sampling: str = "systematic", base: Pretrained | None = None) -> LMProblem:
    """An LMProblem on tokenized data. ``stage_two_steps`` (and ``finetune_steps`` on
    ``finetune_domain``, by default the single validation domain: the multi-stage setting; a
    stage-unaware mixer keeps the default validation objective and names the target here)
    configure the problem's ``stage`` (bench.lm.target.stage_two), the target run the "lm-target" scorer
    reports. The seed is
    not used to build the problem (data and splits are seed-free); it is kept as the seed of the
    Stage-Two run, pairing it across methods. ``stage_two_sampling``: how the target run draws each
    batch's domains from the mixture ("systematic": a Weyl sequence, no multinomial noise;
    "sample": Multinomial draws). ``base``: a pre-trained model every state starts from. ``dtype``:
    "float32", "bf16" (autocast) or "auto" (``auto_dtype``: bf16 where it is faster)."""
    if stage_two_sampling not in ("systematic", "sample"):
        raise BadInput(f"stage_two_sampling: expected 'systematic' or 'sample', got {stage_two_sampling!r}")
    for name, value, minimum in (("batch_size", batch_size, 1), ("eval_batch", eval_batch, 1),
                                 ("eval_seqs", eval_seqs, 1), ("warmup", warmup, 0),
                                 ("stage_two_steps", stage_two_steps, 0), ("finetune_steps", finetune_steps, 0),
                                 ("curve_every", curve_every, 0)):
        require_int(f"problem 'lm': {name}", value, minimum)
    if finetune_steps and finetune_domain is None:
        if val_weights is None:  # the default objective: the mixture's own domains
            val_domains = list(data.domains if domains is None else domains)
        else:
            val_domains = [val_weights] if isinstance(val_weights, str) else list(val_weights)
        if len(val_domains) != 1:
            raise BadInput("finetune_steps: the multi-stage setting fine-tunes on one domain; give val_weights = NAME "
                           "or finetune_domain = NAME")
        finetune_domain = val_domains[0]
    if finetune_domain is not None and finetune_domain not in data.domains:
        raise BadInput(f"finetune_domain: {finetune_domain!r} is not in the data (domains: {', '.join(data.domains)})")
    if dtype == "auto":
        dtype = auto_dtype(model, data.seq_len, device)
    stage = StageTwo(int(stage_two_steps), int(finetune_steps), finetune_domain, int(curve_every), stage_two_sampling,
                     int(seed))
    return LMProblem(data, domains=domains, model=model, batch_size=batch_size, mixing=mixing, eval_batch=eval_batch,
                     val_batch=val_batch, val_weights=val_weights,
                     train=TrainConfig(lr=lr, warmup=warmup, device=device, dtype=dtype, compile=compile),
                     dist=dist, eval_seqs=eval_seqs, stage=stage, base=base)
