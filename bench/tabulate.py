"""The columns of a claim row and the Markdown table every report writes (shared by bench.report
and bench.lm, which sit side by side: neither imports the other's package for these)."""

from __future__ import annotations

CLAIM_COLUMNS = ["id", "claim", "setting", "statistic", "expected", "measured", "verdict"]


def markdown(header: list[str], rows: list[list[str]]) -> str:
    esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(map(esc, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(esc, r)) + " |" for r in rows]
    return "\n".join(lines) + "\n"
