"""tandem-bench reproduce --profile P --out DIR: every suite of the profile, then the report."""

from __future__ import annotations

import sys
import time

from .run import add_sweep_options, jobs_of, summary_line


def run(args) -> int:
    from bench.report import build
    from bench.results import check_writable
    from bench.runner import plan, sweep, worker_pool
    from bench.suites import PROFILES, load, suite_names
    from tandem_ref.errors import BadInput

    if args.profile not in PROFILES:
        raise BadInput(f"--profile: unknown profile {args.profile!r} (known: {', '.join(PROFILES)})")
    check_writable(args.out)
    suites = [s for s in map(load, suite_names()) if args.profile in s.profiles]
    if not suites:
        raise BadInput(f"--profile: no suite has the profile {args.profile!r}")
    # Plan every suite first: a bad suite stops the job before anything is written.
    plans = [(s, plan(s, args.profile)) for s in suites]
    t0 = time.monotonic()
    with worker_pool(jobs_of(args)) as pool:  # one set of workers for every suite (bench.runner.sweep)
        for suite, planned in plans:
            t = time.monotonic()
            counts = sweep(suite, args.profile, args.out, jobs=jobs_of(args), csv=args.csv,
                           retry_failed=args.retry_failed, progress=not args.quiet, planned=planned, pool=pool)
            print(f"{summary_line(suite.name, counts)} ({time.monotonic() - t:.0f} s)", file=sys.stderr)
    print(build(args.out))
    print(f"reproduce --profile {args.profile}: {time.monotonic() - t0:.0f} s", file=sys.stderr)
    return 0


def register(sub) -> None:
    p = sub.add_parser("reproduce", help="run every suite of a profile, then the report (the main job)")
    add_sweep_options(p)
    p.set_defaults(func=run)
