"""tandem-bench report --out DIR: figures, tables and report.md from the results stored in DIR."""

from __future__ import annotations

from pathlib import Path


def run(args) -> int:
    from bench.report import build

    print(build(args.out))
    return 0


def register(sub) -> None:
    p = sub.add_parser("report", help="regenerate figures, tables and report.md from stored results")
    p.add_argument("--out", type=Path, default=Path("results"), help="results folder (default: %(default)s)")
    p.set_defaults(func=run)
