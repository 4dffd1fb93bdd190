"""tandem-bench mix --data PATH... --method NAME --out weights.json

Learn a mixture for the user's own domains (folders, text files or a JSONL file) with any
registered method on the small LM, and write the weights (domain -> weight), the trajectory and
the cost as JSON. Everything is checked before anything is written."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tandem_ref.errors import BadInput


def parse_param(text: str):
    """A --param NAME=VALUE argument: (name, JSON value, or the bare string)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise BadInput(f"--param: expected NAME=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value  # a bare string such as update=mirror


def run(args) -> int:
    import torch

    from bench.lm import checkpoint
    from bench.lm.build import lm_problem
    from bench.lm.corpus import embedded_corpus, read_domains
    from bench.lm.target import target_run
    from bench.results import check_out_file
    from tandem_ref.registry import get_method
    from tandem_ref.schedules import natural_mixture

    out = Path(args.out)
    check_out_file(out)
    for name, value, least in (("--seq-len", args.seq_len, 1), ("--batch-size", args.batch_size, 1),
                               ("--threads", args.threads, 1), ("--target-steps", args.target_steps, 0),
                               ("--checkpoint-every", args.checkpoint_every, 1)):
        if value < least:
            raise BadInput(f"{name}: expected {'a positive' if least else 'a non-negative'} integer, got {value}")
    if args.checkpoint and not Path(args.checkpoint).resolve().parent.is_dir():
        raise BadInput(f"--checkpoint: folder {Path(args.checkpoint).parent} does not exist")
    if args.budget < 1:
        raise BadInput(f"--budget: expected a positive number of proxy steps, got {args.budget}")
    torch.set_num_threads(args.threads)
    method = get_method(args.method, **dict(parse_param(p) for p in args.param))
    if args.data:
        corpus = read_domains(args.data, text_field=args.text_field, domain_field=args.domain_field or None)
    else:
        corpus = embedded_corpus()
    if len(corpus.names) < 2:
        raise BadInput(f"--data: a mixture needs at least two domains, got {len(corpus.names)} "
                       f"({', '.join(corpus.names)}); give two or more folders, files, or JSONL domains")
    problem = lm_problem(args.seed, corpus=corpus, model=args.model, seq_len=args.seq_len, batch_size=args.batch_size,
                         train_tokens=args.train_tokens, lr=args.lr, device=args.device)
    t0 = time.perf_counter()
    try:
        trace, proxy = checkpoint.run(method, problem, args.budget, args.seed, path=args.checkpoint,
                                      every=args.checkpoint_every, progress=not args.quiet)
    except FloatingPointError as e:  # a divergence is the user's settings, not a bug: one line, exit 2
        raise BadInput(f"training diverged ({e}); try a smaller --lr than {args.lr:g}") from None
    wall = time.perf_counter() - t0
    cost = dict(trace.cost, wall_s=wall, compute_s=problem.trainer.wall,
                tokens_per_s=trace.cost.get("tokens", 0) / max(wall, 1e-9), model_params=problem.trainer.n_params)
    doms = list(problem.domains)
    result = {
        "cost": cost,
        "natural": dict(zip(doms, natural_mixture(problem).tolist())),
        "train_tokens": dict(zip(doms, problem.sizes.astype(int).tolist())),
        # passes over each domain's unique training sequences by the mixer's proxy
        "repetitions": None if proxy is None else problem.repetitions(proxy),
        "data": {"fingerprint": problem.data.fingerprint, "corpus": corpus.fingerprint,
                 "sources": {d.name: d.source for d in corpus.domains}},
        "problem": problem.fingerprint(),
    }
    if args.target_steps:
        result["stage_two"] = target_run(problem, trace.output, args.target_steps, args.seed)
    trace.save(out, **result)  # the Trace's own writer (cost here: with the wall time and throughput)
    print(f"wrote {out}: " + ", ".join(f"{d} {w:.3f}" for d, w in trace.weights.items()))
    return 0


def register(sub) -> None:
    p = sub.add_parser("mix", help="learn a data mixture for your own domains; weights JSON out",
                       description=__doc__)
    p.add_argument("--data", nargs="+", metavar="[NAME=]PATH", default=[],
                   help="one folder, text file or JSONL file per domain (a JSONL file gives one domain per value "
                        "of --domain-field); default: the embedded corpus of the Python installation")
    p.add_argument("--method", default="tandem", help="a registered method (tandem-bench list methods)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a method parameter (JSON value), e.g. --param eta_alpha=0.5; repeatable")
    p.add_argument("--out", required=True, help="the weights JSON to write")
    p.add_argument("--budget", type=int, default=300, help="proxy gradient steps (default 300)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", default="small", help="model size: micro, tiny, small, 20m, 85m, 160m")
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--train-tokens", type=int, default=None, help="cap each domain's unique training tokens")
    p.add_argument("--text-field", default="text", help="JSONL: the text field (dotted path)")
    p.add_argument("--domain-field", default="meta.redpajama_set_name",
                   help="JSONL: the domain field (dotted path); '' makes the file one domain")
    p.add_argument("--target-steps", type=int, default=0,
                   help="then train a fresh model on the mixture for this many steps and report test perplexity")
    p.add_argument("--checkpoint", default=None, help="save/resume the run here (npz + .json)")
    p.add_argument("--checkpoint-every", type=int, default=10, help="alpha updates between checkpoints")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=run)
