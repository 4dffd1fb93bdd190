"""The performance gate: ratios measured in one run, compared with a stored baseline and a target.

Absolute times on shared machines drift from run to run (another busy process doubles them), so the
gate judges only *ratios* of two timings taken in the same process, interleaved, each the minimum of
several rounds (a method's step against a plain step, the trainer against a minimal loop, an exact
solve against a reference kernel of the same kind of work): load slows both sides alike. A gated
ratio fails when it misses its target or regresses by more than ``TOLERANCE`` against the baseline
(results/perf/baseline.json). Absolute times, and figures read from stored runs (the reproduce
times from ``run.json``, the mixers' costs from the LM results), are *recorded* beside their targets
with a verdict but never fail the gate (``gated=False``).
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path

from tandem_ref.atomic import write_atomic

TOLERANCE = 0.10
ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "results" / "perf" / "baseline.json"
SUMMARY = ROOT / "results" / "perf" / "summary.md"


@dataclass
class Measurement:
    name: str
    ratio: float
    target: float | None  # None: no target, only the regression check
    higher_is_better: bool = False
    seconds: float | None = None  # the absolute time behind the ratio, for the record
    note: str = ""
    known_miss: bool = False  # the target is out of reach for a reason the note gives: still judged for regression
    gated: bool = True  # False: an absolute time or a stored figure, shown with its verdict, never failing the gate
    regression: bool = True  # False: judged against its target only (a ratio of ratios, whose run-to-run spread
    #                          is about the tolerance itself: 1.13 and 1.24 in two runs of doge_step_M16_vs_M4)


@dataclass
class Verdict:
    name: str
    ratio: float
    target: float | None
    baseline: float | None
    verdict: str  # "ok", "misses target", "regressed", "new", "known miss"; "recorded: ..." when not gated
    seconds: float | None = None
    note: str = ""

    @property
    def failed(self) -> bool:
        return self.verdict in ("misses target", "regressed")


def judge(m: Measurement, baseline: float | None, tolerance: float = TOLERANCE) -> Verdict:
    worse = (lambda a, b: a < b) if m.higher_is_better else (lambda a, b: a > b)
    if not m.gated:
        met = "" if m.target is None else ("misses target" if worse(m.ratio, m.target) else "meets target")
        return Verdict(m.name, m.ratio, m.target, None, f"recorded{': ' + met if met else ''}", m.seconds, m.note)
    limit = None if baseline is None or not m.regression else \
        baseline * ((1 - tolerance) if m.higher_is_better else (1 + tolerance))
    if m.target is not None and worse(m.ratio, m.target) and not m.known_miss:
        v = "misses target"
    elif limit is not None and worse(m.ratio, limit):
        v = "regressed"
    elif m.target is not None and worse(m.ratio, m.target):
        v = "known miss"  # the note says by how much and why
    else:
        v = "ok" if baseline is not None else "new"
    return Verdict(m.name, m.ratio, m.target, baseline, v, m.seconds, m.note)


def load_baseline(path: Path = BASELINE) -> dict:
    if not path.exists():
        return {"machine": None, "ratios": {}}
    return json.loads(path.read_text())


def machine() -> dict:
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version()}


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text.encode())


def save_baseline(measurements: list[Measurement], path: Path = BASELINE) -> None:
    data = {"machine": machine(), "ratios": {m.name: m.ratio for m in measurements if m.gated}}
    _atomic_write(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def table(verdicts: list[Verdict]) -> str:
    fmt = lambda x: "-" if x is None else f"{x:.3g}"
    lines = ["| benchmark | ratio | target | baseline | verdict | time (s) | note |", "|---|---|---|---|---|---|---|"]
    for v in verdicts:
        lines.append(f"| {v.name} | {fmt(v.ratio)} | {fmt(v.target)} | {fmt(v.baseline)} | {v.verdict} | "
                     f"{fmt(v.seconds)} | {v.note} |")
    return "\n".join(lines)


def write_summary(verdicts: list[Verdict], path: Path = SUMMARY, base_machine=None,
                  sections: dict[str, str] | None = None) -> None:
    """The table, then any extra sections (title -> Markdown body), e.g. the growth tables."""
    text = ("# Performance summary (`tox -e bench`)\n\n"
            f"Measured on: {machine()}. Baseline from: {base_machine}.\n"
            f"A gated ratio (two timings of one run) fails when it misses its target or is more than {TOLERANCE:.0%} "
            "worse than the baseline; absolute times and figures read from stored runs are recorded with their "
            "verdict and never fail the gate.\n\n"
            + table(verdicts) + "\n")
    for title, body in (sections or {}).items():
        text += f"\n## {title}\n\n{body.rstrip()}\n"
    _atomic_write(path, text)


def verdicts_for(measurements: list[Measurement], baseline: dict) -> list[Verdict]:
    return [judge(m, baseline["ratios"].get(m.name)) for m in measurements]
