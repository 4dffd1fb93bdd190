"""tandem-bench report --out DIR: figures, tables and report.md from the results stored in DIR."""

from __future__ import annotations

from pathlib import Path

from tandem_ref.errors import BadInput


def run(args) -> int:
    from bench.report import build
    from bench.report.markdown import update_readme

    if args.readme is not None and not args.readme.is_file():
        raise BadInput(f"--readme {args.readme}: no such file")
    print(build(args.out))
    if args.readme is not None:
        update_readme(args.readme, (args.out / "tables" / "claims_digest.md").read_text())
        print(args.readme)
    return 0


def register(sub) -> None:
    p = sub.add_parser("report", help="regenerate figures, tables and report.md from stored results")
    p.add_argument("--out", type=Path, default=Path("results"), help="results folder (default: %(default)s)")
    p.add_argument("--readme", type=Path, default=None,
                   help="also put the claims digest into this README's claims-digest block")
    p.set_defaults(func=run)
