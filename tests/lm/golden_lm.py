"""The numbers the LM golden test pins: small runs through every path an LM cell's numbers depend on.

``observe()`` returns a flat dict name -> value. Integers and hashes (tokenization, batch
composition, costs) are exact; floats come from float32 training and are compared with the
tolerance justified in test_golden_lm.py. Run this file to print the current values:

    python -m tests.lm.golden_lm
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from bench.lm.batches import systematic_counts
from bench.lm.build import lm_problem, make
from bench.lm.corpus import Corpus, Domain
from bench.lm.sft import encode_examples
from bench.lm.target import stage_two_scorer
from bench.lm.tokens import TokenData, tokenize
from tandem_ref.registry import get_method


def toy_corpus() -> Corpus:
    """Three synthetic domains (numpy's seeded generator: the same bytes on every platform)."""
    rng = np.random.default_rng(0)
    docs = lambda n, size, alphabet: tuple(  # noqa: E731
        bytes(rng.choice(np.frombuffer(alphabet, dtype=np.uint8), size=size)) for _ in range(n))
    return Corpus((Domain("letters", docs(40, 400, b"abcdefgh \n"), "toy"),
                   Domain("digits", docs(20, 300, b"0123456789,\n"), "toy"),
                   Domain("upper", docs(12, 200, b"XYZ "), "toy")))


def _hash(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.dtype.str, a.shape)).encode() + a.tobytes())
    return h.hexdigest()[:16]


def _data_hash(data: TokenData) -> str:
    parts = []
    for d in data.domains:
        for s in ("train", "val", "test"):
            sp = data[d][s]
            parts += [sp.tokens] + ([] if sp.mask is None else [sp.mask])
    return _hash(*parts)


def _sft_data() -> TokenData:
    """Two synthetic supervised tasks (prompt -> answer), encoded as the SFT setting encodes them."""
    rng = np.random.default_rng(1)
    splits = {}
    for task, op in (("add", lambda a, b: a + b), ("mul", lambda a, b: a * b)):
        ex = []
        for _ in range(60):
            a, b = (int(x) for x in rng.integers(0, 30, 2))
            ex.append((f"{task} {a} {b} =".encode(), f" {op(a, b)}\n".encode()))
        splits[task] = {"train": encode_examples(ex[:40], 24), "val": encode_examples(ex[40:50], 24),
                        "test": encode_examples(ex[50:], 24)}
    return TokenData(("add", "mul"), splits, 24, "golden-sft")


def _floats(prefix: str, values) -> dict:
    return {f"{prefix}.{i}": float(v) for i, v in enumerate(np.asarray(values, dtype=np.float64).ravel())}


SETTINGS = dict(model="micro", seq_len=32, batch_size=6, warmup=2, eval_batch=3)


def signals(p) -> dict:
    """The signals on one state: twin gap, DoReMi's excess loss, evaluation (``observe`` and the
    sensitivity test share it)."""
    w = p.step(p.init_state(2), [0.5, 0.3, 0.2], 4, val_weight=0.5)
    u = p.step(w, [0.2, 0.2, 0.6], 2)
    out = {**_floats("gap", -p.paired_losses(w, u).diff),
           **_floats("excess", p.paired_losses(w, u, on_batch=True).excess),
           **_floats("eval", list(p.evaluate(u)["loss"].values()))}
    return out, w


def observe() -> dict:
    torch.set_num_threads(1)
    corpus = toy_corpus()
    out = {"tokens.plain": _data_hash(tokenize(corpus, 32)),
           "tokens.capped": _data_hash(tokenize(corpus, 32, {"letters": 500})),
           "tokens.sft": _data_hash(_sft_data()),
           "systematic": ",".join(str(int(c)) for c in systematic_counts(np.array([0.5, 0.3, 0.2]), 3, 7, 16))}
    settings = dict(corpus=corpus, **SETTINGS)

    # Stage One: each online mixer's output, and its proxy-side cost (batches, steps, FLOPs)
    for name, params in (("tandem", {"eta_alpha": 1.0}), ("doge", {}), ("doremi", {})):
        tr = get_method(name, **params).run(lm_problem(0, **settings), 12, 1)
        out.update(_floats(f"{name}.output", tr.output))
        out[f"{name}.grad_steps"] = int(tr.cost["grad_steps"])
        out[f"{name}.tokens"] = int(tr.cost["tokens"])

    # the signals on one state, and DoGE's alignments (both paths) and step
    p = lm_problem(0, **settings)
    sig, w = signals(p)
    out.update(sig)
    out.update(_floats("align.naive", p.naive_domain_grads(w).align))
    out.update(_floats("align.batched", p.batched_domain_grads(w).align))
    out.update(_floats("doge_step", p.domain_grads(w).step([0.2, 0.5, 0.3]).params[0].ravel()[:4].numpy()))

    # multinomial sampling, as Stage Two may draw
    s = lm_problem(0, mixing="sample", **settings)
    out.update(_floats("sample", list(s.evaluate(s.step(s.init_state(0), [0.6, 0.1, 0.3], 5))["loss"].values())))

    # Stage Two: a target run with a loss curve; and the multi-stage one, fine-tuned on a target
    r = stage_two_scorer(lm_problem(3, stage_two_steps=8, curve_every=4, **settings))([0.2, 0.3, 0.5])
    out.update({f"stage_two.{k}": v for k, v in sorted(r.items()) if not k.startswith("stage_two.")
                or k in ("stage_two.flops", "stage_two.steps")})
    ms = lm_problem(4, stage_two_steps=6, finetune_steps=3, val_weights="upper", domains=["letters", "digits"],
                    **settings)
    out.update(_floats("multistage", [stage_two_scorer(ms)([0.7, 0.3])["avg_loss"]]))

    # supervised tasks: masked losses and exact-match accuracy
    q = make(_sft_data(), 5, model="micro", batch_size=4, warmup=2, eval_batch=2, stage_two_steps=6)
    res = stage_two_scorer(q)([0.4, 0.6])
    out.update({f"sft.{k}": res[k] for k in ("avg_loss", "avg_acc", "train_avg_loss", "val_avg_loss")})
    return out


if __name__ == "__main__":
    for k, v in observe().items():
        print(f"    {k!r}: {v!r},")
