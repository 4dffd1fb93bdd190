"""tandem-bench run SUITE --profile P --out DIR [--jobs N] [--csv] [--retry-failed]"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def add_sweep_options(p, default_out="results") -> None:
    """Options shared by ``run`` and ``reproduce``."""
    from bench.suites.schema import PROFILE_HELP

    p.add_argument("--profile", default="quick", metavar="PROFILE",
                   help="the suite's profile (default %(default)s): "
                        + "; ".join(f"{k}: {v}" for k, v in PROFILE_HELP.items()))
    p.add_argument("--out", type=Path, default=Path(default_out), help="results folder (default: %(default)s)")
    p.add_argument("--jobs", type=int, default=0, help="parallel processes (default 0: one per CPU core)")
    p.add_argument("--csv", action="store_true", help="also write results.csv next to results.parquet")
    p.add_argument("--retry-failed", action="store_true", help="recompute cells stored as failed")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def jobs_of(args) -> int:
    return args.jobs if args.jobs else (os.cpu_count() or 1)


def summary_line(name: str, counts: dict) -> str:
    return (f"{name}: {counts['cells']} cells, {counts['computed']} computed, {counts['failed']} failed"
            + (f", {counts['missing']} missing" if counts["missing"] else ""))


def run(args) -> int:
    from bench.runner import plan, sweep
    from bench.suites import folder, load

    suite = load(args.suite)
    planned = plan(suite, args.profile)  # every name and parameter checked before anything is written
    counts = sweep(suite, args.profile, args.out, jobs=jobs_of(args), csv=args.csv,
                   retry_failed=args.retry_failed, progress=not args.quiet, planned=planned)
    print(summary_line(suite.name, counts), file=sys.stderr)
    print(args.out / folder(suite, args.profile) / "results.parquet")
    return 0


def register(sub) -> None:
    p = sub.add_parser("run", help="run one suite (resumable: stored cells are not recomputed)")
    p.add_argument("suite", help="suite name (see `tandem-bench list suites`) or path to a suite .toml file")
    add_sweep_options(p)
    p.set_defaults(func=run)
