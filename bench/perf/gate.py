"""The performance gate: ratios measured in one run, compared with a stored baseline and a target.

Absolute times on shared machines drift from run to run (another busy process doubles them), so the
gate judges only *ratios* of two timings taken in the same process, interleaved, each the minimum of
several rounds (a method's step against a plain step, the trainer against a minimal loop, an exact
solve against a reference kernel of the same kind of work): load slows both sides alike. A gated
ratio fails when it misses its target or regresses against the baseline (results/perf/baseline.json)
by more than its own tolerance: the spread of that ratio measured over repeated runs on the
baseline's machine (``calibrate``, ``python -m bench.perf.calibrate``), never less than ``TOLERANCE``.
Even interleaved min-of-N ratios move between quiet runs (cache and frequency states: 1.97 against
2.25 for one ratio, three minutes apart), by different amounts for different ratios, so one fixed
tolerance is either too tight for some (a gate that cries wolf) or too loose for others.
Absolute times, and figures read from stored runs (the reproduce
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

TOLERANCE = 0.10  # the least regression tolerance of any gated ratio
SPREAD_FACTOR = 2.0  # tolerance = this x the relative range of the calibration runs (see calibrate)
HISTORY = 12  # calibration runs kept per ratio: the spread is taken over runs of several sessions
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
    tolerance: float | None = None  # the regression tolerance applied (None: no regression check)

    @property
    def failed(self) -> bool:
        return self.verdict in ("misses target", "regressed")


def judge(m: Measurement, baseline: float | None, tolerance: float | None = None) -> Verdict:
    """A calibrated ``tolerance`` (the ratio's measured spread) also keeps a target from failing on
    noise: a ratio past its target by less than its own spread is "near target", reported, not failed."""
    calibrated = tolerance is not None
    tolerance = TOLERANCE if tolerance is None else tolerance
    worse = (lambda a, b: a < b) if m.higher_is_better else (lambda a, b: a > b)
    if not m.gated:
        met = "" if m.target is None else ("misses target" if worse(m.ratio, m.target) else "meets target")
        return Verdict(m.name, m.ratio, m.target, None, f"recorded{': ' + met if met else ''}", m.seconds, m.note)
    limit = None if baseline is None or not m.regression else \
        baseline * ((1 - tolerance) if m.higher_is_better else (1 + tolerance))
    noisy_target = None if m.target is None else (
        m.target * ((1 - tolerance) if m.higher_is_better else (1 + tolerance)) if calibrated else m.target)
    if m.target is not None and worse(m.ratio, noisy_target) and not m.known_miss:
        v = "misses target"
    elif m.target is not None and worse(m.ratio, m.target) and not m.known_miss and (
            limit is None or not worse(m.ratio, limit)):
        v = "near target (within its measured spread)"
    elif limit is not None and worse(m.ratio, limit):
        v = "regressed"
    elif m.target is not None and worse(m.ratio, m.target):
        v = "known miss"  # the note says by how much and why
    else:
        v = "ok" if baseline is not None else "new"
    return Verdict(m.name, m.ratio, m.target, baseline, v, m.seconds, m.note,
                   tolerance if (limit or calibrated) else None)


def calibrate(runs: list[dict[str, float]], history: dict[str, list[float]] | None = None
              ) -> tuple[dict[str, float], dict[str, float]]:
    """Baseline ratios and regression tolerances from n runs of the gate on one machine (plus the
    ``history`` of earlier calibration runs, name -> values): each ratio's median, and tolerance
    max(TOLERANCE, SPREAD_FACTOR * (max - min) / median). The range of n = 3 draws is 1.7 standard
    deviations on average (for normal noise), so the tolerance is about 3.4 of them; but runs minutes
    apart agree more than runs of different sessions (one ratio: 1.98-2.08 in three runs, 2.53 ten
    minutes later), so the spread is taken over the runs of several calibrations. A slowdown of
    the measured step larger than that (the gate's own test slows a step 10-fold) still fails."""
    if len(runs) < 2:
        raise ValueError("calibrate: needs at least two runs to measure a spread")
    ratios, tolerances = {}, {}
    for n, seen in kept_history(runs, history).items():
        xs = sorted(seen)
        med = xs[len(xs) // 2] if len(xs) % 2 else 0.5 * (xs[len(xs) // 2 - 1] + xs[len(xs) // 2])
        ratios[n] = med
        tolerances[n] = max(TOLERANCE, SPREAD_FACTOR * (xs[-1] - xs[0]) / med)
    return ratios, tolerances


def kept_history(runs: list[dict[str, float]], history: dict[str, list[float]] | None = None) -> dict:
    """The calibration values of each ratio every run measured: earlier ones first, these runs last,
    the last ``HISTORY`` kept (what ``calibrate`` judges from and the baseline stores)."""
    names = sorted(set.intersection(*(set(r) for r in runs)))
    return {n: (list((history or {}).get(n, [])) + [r[n] for r in runs])[-HISTORY:] for n in names}


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
    """One run's gated ratios as the baseline, each with the least tolerance (prefer ``calibrate``)."""
    write_baseline({m.name: m.ratio for m in measurements if m.gated}, {}, 1, path)


def write_baseline(ratios: dict, tolerances: dict, runs: int, path: Path = BASELINE, history: dict | None = None
                   ) -> None:
    data = {"machine": machine(), "runs": runs, "ratios": ratios, "tolerance": tolerances, "history": history or {}}
    _atomic_write(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def table(verdicts: list[Verdict]) -> str:
    fmt = lambda x: "-" if x is None else f"{x:.3g}"
    tol = lambda x: "-" if x is None else f"{x:.0%}"  # noqa: E731
    lines = ["| benchmark | ratio | target | baseline | tolerance | verdict | time (s) | note |",
             "|---|---|---|---|---|---|---|---|"]
    for v in verdicts:
        lines.append(f"| {v.name} | {fmt(v.ratio)} | {fmt(v.target)} | {fmt(v.baseline)} | {tol(v.tolerance)} | "
                     f"{v.verdict} | {fmt(v.seconds)} | {v.note} |")
    return "\n".join(lines)


def write_summary(verdicts: list[Verdict], path: Path = SUMMARY, base_machine=None,
                  sections: dict[str, str] | None = None) -> None:
    """The table, then any extra sections (title -> Markdown body), e.g. the growth tables."""
    text = ("# Performance summary (`tox -e bench`)\n\n"
            f"Measured on: {machine()}. Baseline from: {base_machine}.\n"
            f"A gated ratio (two timings of one run) fails when it misses its target or is worse than the baseline "
            f"by more than its tolerance ({SPREAD_FACTOR:g} x its spread over the baseline's calibration runs, at "
            f"least {TOLERANCE:.0%}); absolute times and figures read from stored runs are recorded with their "
            "verdict and never fail the gate.\n\n"
            + table(verdicts) + "\n")
    for title, body in (sections or {}).items():
        text += f"\n## {title}\n\n{body.rstrip()}\n"
    _atomic_write(path, text)


def verdicts_for(measurements: list[Measurement], baseline: dict) -> list[Verdict]:
    tol = baseline.get("tolerance", {})
    return [judge(m, baseline["ratios"].get(m.name), tol.get(m.name)) for m in measurements]
