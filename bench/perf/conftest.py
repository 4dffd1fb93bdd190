"""Collects every benchmark's ratio, judges it against the baseline and target, prints the table,
writes results/perf/summary.md, and fails the session when any verdict fails.

``--perf-update-baseline`` stores this run's gated ratios as the new baseline, then judges them (the targets
still apply; the regression check is then against this run).
``--perf-no-write`` judges without writing the summary (used by the gate's own test).
``--perf-dump PATH`` also writes this run's gated ratios as JSON (``python -m bench.perf.calibrate``
runs the gate several times and makes the baseline and per-ratio tolerances from the dumps).
``--perf-baseline PATH`` judges against another baseline file than results/perf/baseline.json."""

import json
from pathlib import Path

import pytest

from bench.perf import gate

_MEASURED: list = []
_SECTIONS: dict = {}  # extra Markdown sections of the summary (growth tables), title -> body


def pytest_addoption(parser):
    parser.addoption("--perf-update-baseline", action="store_true", help="store this run's ratios as the baseline")
    parser.addoption("--perf-no-write", action="store_true", help="do not write results/perf/summary.md")
    parser.addoption("--perf-dump", default=None, help="write this run's gated ratios as JSON to this path")
    parser.addoption("--perf-baseline", default=None, help="the baseline file to judge against")


@pytest.fixture
def record_ratio(benchmark):
    """record_ratio(name, ratio, target=None, higher_is_better=False, seconds=None, note='', known_miss=False,
    gated=True)"""

    def record(name, ratio, target=None, higher_is_better=False, seconds=None, note="", known_miss=False, gated=True,
               regression=True):
        m = gate.Measurement(name, float(ratio), target, higher_is_better, seconds, note, known_miss, gated, regression)
        _MEASURED.append(m)
        benchmark.extra_info.update({"ratio": m.ratio, "target": target})
        return m

    return record


@pytest.fixture
def record_section():
    """record_section(title, markdown): an extra section of results/perf/summary.md."""

    def record(title, body):
        _SECTIONS[title] = body

    return record


def pytest_sessionfinish(session, exitstatus):
    if not _MEASURED:
        return
    config = session.config
    path = Path(config.getoption("--perf-baseline") or gate.BASELINE)
    if config.getoption("--perf-dump"):
        Path(config.getoption("--perf-dump")).write_text(json.dumps({m.name: m.ratio for m in _MEASURED if m.gated}))
    if config.getoption("--perf-update-baseline"):  # then judged against it: the targets still apply
        gate.save_baseline(_MEASURED, path)
        print(f"\nperf baseline written: {path}")
    base = gate.load_baseline(path)
    verdicts = gate.verdicts_for(_MEASURED, base)
    print("\n" + gate.table(verdicts))
    if not config.getoption("--perf-no-write"):
        gate.write_summary(verdicts, base_machine=base.get("machine"), sections=_SECTIONS)
    if any(v.failed for v in verdicts):
        print("perf gate: FAILED (" + ", ".join(f"{v.name}: {v.verdict}" for v in verdicts if v.failed) + ")")
        session.exitstatus = 1
