"""Reports: figures, tables and report.md, a pure function of the results stored under a folder.

``build(out)`` reads every ``out/<suite>/`` (its manifest and cells or its tidy table) and writes
``out/figures/*.png|pdf``, ``out/tables/*.md|tex`` and ``out/report.md``. It works on a partly
finished sweep and says which cells are missing.
"""

from __future__ import annotations

from pathlib import Path

from tandem_ref.errors import BadInput

from ..results import check_writable, suite_dirs, write_atomic
from ..tabulate import CLAIM_COLUMNS
from ..tabulate import markdown as md_table
from . import data as data_mod
from . import figures, markdown, tables


def build(out) -> Path:
    out = Path(out)
    if not out.is_dir() or not suite_dirs(out):
        raise BadInput(f"--out {out}: no results here (run `tandem-bench run SUITE --out {out}` first)")
    check_writable(out)
    data = data_mod.load(out)
    from . import ladder as ladder_report  # the model-size ladder: its figure, tables and claims

    figs = figures.draw(data, out / "figures") + ladder_report.draw(data, out / "figures")
    tdir = out / "tables"
    tdir.mkdir(exist_ok=True)
    summaries = {}
    from bench.evidence import report as lm_report  # LM suites: per-domain perplexity and paired differences
    from bench.evidence import verdicts as lm_verdicts

    for sd in data:
        header, rows = lm_report.summary(sd) or tables.suite_summary(sd)
        summaries[sd.name] = (header, rows)
        if rows:
            write_atomic(tdir / f"{sd.name}.md", md_table(header, rows).encode())
            write_atomic(tdir / f"{sd.name}.tex", tables.latex(header, rows).encode())
    from bench.evidence import ladder_claims as lm_ladder

    first = data_mod.load(out / "first-design") if (out / "first-design").is_dir() else []
    claims = tables.claims_rows(data) + lm_verdicts.claims(data) + lm_ladder.claims(data, first)
    scale_md = ladder_report.tables(data, tdir)
    if claims:
        write_atomic(tdir / "claims.md", md_table(CLAIM_COLUMNS, claims).encode())
        write_atomic(tdir / "claims.tex", tables.latex(CLAIM_COLUMNS, claims).encode())
        digest = md_table(tables.DIGEST_COLUMNS, tables.claims_digest(claims))
        write_atomic(tdir / "claims_digest.md", digest.encode())  # the README's claims table
    paper = lm_report.paper_rows(data)
    if paper:  # the README's LM table: the paper side by side
        text = md_table(lm_report.PAPER_HEADER, paper)
        text += "".join(f"\n{x}\n" for x in lm_report.mixture_shape(data))
        write_atomic(tdir / "lm_paper.md", text.encode())
    return markdown.write(out, data, figs, summaries, claims, scale_md)
