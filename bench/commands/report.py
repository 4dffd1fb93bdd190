"""tandem-bench report --out DIR: figures, tables and report.md from the results stored in DIR."""

from __future__ import annotations

from pathlib import Path

from tandem_ref.errors import BadInput


def run(args) -> int:
    from bench.report import build
    from bench.report.markdown import perf_table, readme_digest_block, update_readme

    if args.readme is not None:
        if not args.readme.is_file():
            raise BadInput(f"--readme {args.readme}: no such file")
        readme_digest_block(args.readme.read_text())  # its markers, checked before anything is written
    print(build(args.out))
    if args.readme is not None:
        digest = args.out / "tables" / "claims_digest.md"
        if not digest.is_file():
            raise BadInput(f"--readme: the results in {args.out} hold no claim verdicts (report.md was written; "
                           "the README was left as it was)")
        paper = args.out / "tables" / "lm_paper.md"
        perf = args.out / "perf" / "summary.md"
        scale = args.out / "tables" / "ladder.md"
        update_readme(args.readme, digest.read_text(), paper.read_text() if paper.is_file() else None,
                      perf_table(perf.read_text()) if perf.is_file() else None,
                      scale.read_text() if scale.is_file() else None)
        print(args.readme)
    return 0


def register(sub) -> None:
    p = sub.add_parser("report", help="regenerate figures, tables and report.md from stored results")
    p.add_argument("--out", type=Path, default=Path("results"), help="results folder (default: %(default)s)")
    p.add_argument("--readme", type=Path, default=None,
                   help="also put the claims digest into this README's claims-digest block")
    p.set_defaults(func=run)
