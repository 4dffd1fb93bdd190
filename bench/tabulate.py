"""The columns of a claim row and the Markdown table every report writes (shared by bench.report and
bench.evidence: the report reads the evidence, and the evidence never imports the report's package)."""

from __future__ import annotations

CLAIM_COLUMNS = ["id", "claim", "setting", "statistic", "expected", "measured", "verdict", "declared at", "computed at"]


def commits(run: dict) -> dict:
    """A claim row's "declared at" and "computed at": the short commits that last changed the suite file
    before its sweep and that the sweep ran at (run.json; "–" where a sweep did not record them)."""
    short = lambda c: "–" if not c or c == "unknown" else c[:7] + ("+dirty" if c.endswith("+dirty") else "")  # noqa: E731
    return {"declared at": short(run.get("design_commit")), "computed at": short(run.get("git_commit"))}


def markdown(header: list[str], rows: list[list[str]]) -> str:
    esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(map(esc, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(esc, r)) + " |" for r in rows]
    return "\n".join(lines) + "\n"
