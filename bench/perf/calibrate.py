"""Calibrate the performance gate on this machine: run it ``--runs`` times (quietly: nothing else
busy), store each gated ratio's median as the baseline and its measured spread as its tolerance,
over these runs and those of earlier calibrations kept in the baseline (``gate.calibrate``; at most
``gate.HISTORY`` per ratio; ``--fresh`` forgets them), and print each ratio's runs.

    python -m bench.perf.calibrate --runs 3 [-- PYTEST ARGS]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from . import gate


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.perf.calibrate", description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="gate runs (at least 2)")
    ap.add_argument("--out", default=str(gate.BASELINE), help="the baseline file to write")
    ap.add_argument("--fresh", action="store_true", help="forget the runs of earlier calibrations (after a "
                    "benchmark's code changed)")
    ap.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --)")
    a = ap.parse_args(argv)
    if a.runs < 2:
        print("--runs: at least 2 runs are needed to measure a spread", file=sys.stderr)
        return 2
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.runs):
            dump = Path(tmp) / f"run{i}.json"
            cmd = [sys.executable, "-m", "pytest", str(Path(__file__).parent), "--benchmark-enable",
                   "--benchmark-only", "-p", "no:cacheprovider", "-q", "--perf-no-write", "--perf-dump", str(dump),
                   "--perf-baseline", str(Path(tmp) / "none.json"), *a.pytest_args]
            subprocess.run(cmd, cwd=gate.ROOT, check=False, capture_output=True, text=True)
            if not dump.exists():
                print(f"run {i + 1}: the gate wrote no ratios (see `tox -e bench`)", file=sys.stderr)
                return 1
            runs.append(json.loads(dump.read_text()))
            print(f"run {i + 1}/{a.runs}: {len(runs[-1])} ratios")
    old = gate.load_baseline(Path(a.out)) if not a.fresh else {}
    history = old.get("history", {})
    ratios, tolerances = gate.calibrate(runs, history)
    merged = gate.kept_history(runs, history)
    gate.write_baseline(ratios, tolerances, len(runs), Path(a.out), merged)
    for n in ratios:
        seen = ", ".join(f"{x:.3g}" for x in merged[n])
        print(f"{n}: baseline {ratios[n]:.3g}, tolerance {tolerances[n]:.0%} (runs: {seen})")
    print(f"baseline written: {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
