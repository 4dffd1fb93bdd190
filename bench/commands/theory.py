"""tandem-bench theory optimum SPEC.json [--method NAME]: the exact optimum of a posed controlled problem.

Prints {"alpha": [...], "F": ..., "fw_gap": ..., "domains": [...]} as JSON; with --method, also runs the
method on the problem and adds its output mixture and scores (theory.scores)."""

from __future__ import annotations

import json
import math

from tandem_ref.errors import BadInput


def _read_spec(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise BadInput(f"{path}: cannot read spec ({e.strerror})") from None
    except UnicodeDecodeError as e:
        raise BadInput(f"{path}: not UTF-8 text (byte {e.start}); a spec is a JSON file") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise BadInput(f"{path}: invalid JSON at line {e.lineno}: {e.msg}") from None


# The certified optimum's cost grows steeply with the number of domains m and the parameter
# dimension d (measured on a 2-core machine, Family A: m = 64, d = 64 in 4.7 s; m = 128, d = 64 in
# 122 s; m = 64, d = 256 not done in 200 s). Larger problems are refused unless --force says the
# wait is wanted.
MAX_DOMAINS, MAX_DIM = 64, 64


def _check_size(problem, force: bool) -> None:
    m, d = len(problem.domains), int(getattr(problem, "dim", 0) or 0)
    if force:
        return
    if m > MAX_DOMAINS:
        raise BadInput(f"m: {m} domains is above the {MAX_DOMAINS} that `theory optimum` certifies in seconds "
                       f"(m = 128 took 2 minutes); pass --force to wait for it")
    if d > MAX_DIM:
        raise BadInput(f"d: dimension {d} is above the {MAX_DIM} that `theory optimum` certifies in seconds "
                       f"(d = 256 took over 3 minutes at m = 64); pass --force to wait for it")


def _clean(x):
    return None if isinstance(x, float) and not math.isfinite(x) else x


def run_optimum(args) -> int:
    from tandem_ref.registry import get_method
    from theory import exact, families, scores

    problem = families.from_spec(_read_spec(args.spec))
    _check_size(problem, args.force)
    opt = exact.optimum(problem)
    out = opt.as_dict(problem.domains)
    if args.method:
        try:
            params = json.loads(args.params) if args.params else {}
        except json.JSONDecodeError as e:
            raise BadInput(f"--params: invalid JSON ({e.msg})") from None
        if not isinstance(params, dict):
            raise BadInput("--params: expected a JSON object of method parameters")
        if args.budget < 1:
            raise BadInput(f"--budget: expected a positive number of steps, got {args.budget}")
        trace = get_method(args.method, **params).run(problem, args.budget, args.seed)
        out["method"] = {"name": args.method, "params": params, "budget": args.budget, "seed": args.seed,
                         "alpha": [float(a) for a in trace.output],
                         "scores": {k: _clean(v) for k, v in scores.score(problem, trace.output, opt).items()},
                         "cost": trace.cost}
    print(json.dumps(out, indent=None if args.compact else 2))
    return 0


def register(sub) -> None:
    p = sub.add_parser("theory", help="exact quantities of the controlled problems (theory/)")
    tsub = p.add_subparsers(dest="theory_command", required=True, metavar="COMMAND", parser_class=type(p))
    o = tsub.add_parser("optimum", help="exact optimum alpha* of a JSON problem spec, certified by its FW gap")
    o.add_argument("spec", help="JSON spec: {\"family\": ..., arrays and parameters} (see tandem-bench list problems)")
    o.add_argument("--method", help="also run this registered method on the problem and score its output")
    o.add_argument("--params", help="JSON object of method parameters")
    o.add_argument("--budget", type=int, default=2000, help="proxy steps for --method (default 2000)")
    o.add_argument("--seed", type=int, default=0, help="seed for --method (default 0)")
    o.add_argument("--compact", action="store_true", help="one-line JSON")
    o.add_argument("--force", action="store_true",
                   help=f"certify problems above {MAX_DOMAINS} domains or dimension {MAX_DIM} (minutes or more)")
    o.set_defaults(func=run_optimum)
