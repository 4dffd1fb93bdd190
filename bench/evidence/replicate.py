"""Replicate a deciding LM run's reported comparisons on another CPU kernel path, and compare.

Another CPU's libraries choose other math kernels (AVX2 against AVX-512, another oneDNN or BLAS
path), which changes every LM cell in its low bits; training and the mixers amplify that into
differences of the size of the seed-to-seed noise. A verdict that a reader can trust must survive
it. This module re-runs the cells of a suite's reported study (the same keys: the same methods,
chosen step sizes, seeds and data) in a process whose environment selects another kernel path (the
harness pins torch's to AVX2, bench.blas_kernel; an explicit setting such as the machine's own
AVX-512 path below overrides the pin), and compares the claim rows of both runs:

    ATEN_CPU_CAPABILITY=avx512 ONEDNN_MAX_CPU_ISA=ALL MKL_CBWR=AUTO \\
        python -m bench.evidence.replicate run lm-restricted --from results \\
        --out results/kernel-path [--methods uniform,natural,tandem] [--jobs 2]
    python -m bench.evidence.replicate compare --from results --out results/kernel-path

``compare`` writes ``OUT/kernel-path.md``: per claim row, the measured interval and verdict on each
path, whether the verdicts agree and whether the replicate's mean lies inside the first run's
printed interval, plus each run's recorded kernel path (provenance). The tuning and grid studies are
not re-run: the replicate tests the verdicts given the chosen step sizes (a fresh ``reproduce``
under the other path tests the choices too, at the full cost).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import numpy as np

from tandem_ref.errors import BadInput

from .. import results
from ..cells import Cell
from ..suites import folder_name
from ..tabulate import CLAIM_COLUMNS, markdown
from . import verdicts

KERNEL_ENV = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_CBWR", "OPENBLAS_CORETYPE")
PROVENANCE = ("torch_cpu_capability", "cpu_isa", "openblas_coretype", "blas_kernel", "aten_cpu_capability_env",
              "onednn_max_cpu_isa", "mkl_cbwr")
NUM = r"[−-]?\d+(?:\.\d+)?"


def _suite_dir(root: Path, suite: str) -> Path:
    d = Path(root) / folder_name(suite, verdicts.DECIDING)
    if not (d / "manifest.json").exists():
        raise BadInput(f"{d}: no deciding-profile results of {suite!r} to replicate (run it first)")
    return d


def selected(manifest: dict, suite: str, methods) -> list[dict]:
    """The manifest entries of the reported study (and its stage-unaware twin) for ``methods``."""
    studies = {suite, f"{suite}-unaware"}
    out = [e for e in manifest["cells"] if e["labels"].get("study") in studies
           and (not methods or e["labels"].get("method_label") in methods)]
    if not out:
        raise BadInput(f"--methods: none of {', '.join(methods)} in the reported study of {suite!r}")
    return out


def run(suite: str, source: Path, out: Path, methods, jobs: int) -> dict:
    from ..compute import Planned, config_of
    from ..runner import run_cells

    manifest = results.read_manifest(_suite_dir(source, suite))
    entries = selected(manifest, suite, methods)
    target = Path(out) / folder_name(suite, verdicts.DECIDING)
    with results.suite_folder(target) as cells_dir:
        results.write_json(target / "manifest.json", {**manifest, "cells": entries,
                                                       "replicate_of": str(Path(source) / target.name)})
        todo = []
        for e in entries:
            if results.read_cell(cells_dir / f"{e['key']}.json") is None:
                cell = Cell.from_dict(e["cell"])
                todo.append(Planned(e["key"], cell, config_of(cell)))
        run_cells(todo, cells_dir, jobs, progress=False)
        df, missing = results.rebuild_table(target)
    return {"cells": len(entries), "computed": len(todo), "missing": len(missing)}


def _rows(suite_dir: Path, keys=None):
    """A suite's claim rows (of the cells in ``keys``, or all), its kernel paths, its chosen step sizes
    and its table."""
    manifest = results.read_manifest(suite_dir)
    table, _ = results.collect(suite_dir)
    if keys is not None:
        table = table[table["key"].isin(keys)]
    kernels = {c: sorted(str(v) for v in table[c].dropna().unique()) for c in PROVENANCE if c in table}
    return verdicts.claim_rows(suite_dir.name, table, None, manifest), kernels, chosen_steps(table), table


def shifts(name: str, first, second) -> list[list[str]]:
    """Per method, over the cells both runs computed (the same keys): how far the returned mixture and
    the Stage-Two test loss moved (max over cells of max_i |alpha_i - alpha_i'| and |loss - loss'|)."""
    a, b = verdicts.lm_final(first), verdicts.lm_final(second)
    cols = [c for c in a.columns if c.startswith("alpha.") and c in b.columns]
    m = a.merge(b, on="key", suffixes=("", "'"))
    out = []
    for method, g in m.groupby("method", sort=True):
        da = (g[cols].to_numpy(float) - g[[c + "'" for c in cols]].to_numpy(float))
        dl = (g["avg_loss"] - g["avg_loss'"]).abs().max()
        out.append([name, str(method), str(len(g)), f"{np.nanmax(np.abs(da)):.1e}" if da.size else "–", f"{dl:.1e}"])
    return out


def chosen_steps(table) -> dict[str, str]:
    """method -> the step size its tuning study chose (bench.evidence.report.tuning_table), where tuned."""
    from .report import tuning_table

    tun = tuning_table(table)
    return {} if tun is None else {f"{r[0]} {r[1]}": r[2] for r in tun[1] if r[5] == "chosen"}


def interval_of(text: str):
    """(mean, low, high) of a printed 'mean [low, high]' cell, or None (shared with the slow kernel test)."""
    m = re.match(rf"({NUM}) \[({NUM}), ({NUM})\]", text)
    f = lambda s: float(s.replace("−", "-"))  # noqa: E731
    return (f(m.group(1)), f(m.group(2)), f(m.group(3))) if m else None


def verdict_of(v: str) -> str:
    """The verdict word of a claim row, without its parenthesised detail."""
    return v.split(" (")[0]


def compare(source: Path, out: Path) -> tuple[str, bool]:
    """The comparison table of every replicated suite under ``out``; (markdown, all verdicts agree)."""
    agree_all = True
    dirs = sorted(p.parent for p in Path(out).glob(f"{folder_name('*', verdicts.DECIDING)}/manifest.json"))
    if not dirs:
        raise BadInput(f"{out}: no replicated suites (run `python -m bench.evidence.replicate run SUITE` first)")
    rows = []
    kernels = {}
    n_printed = 0
    moves = []
    fresh = []  # suites reproduced from scratch (tuning included), not replicated at the same keys
    steps = []
    for d in dirs:
        manifest = results.read_manifest(d)
        keys = None if "replicate_of" not in manifest else {e["key"] for e in manifest["cells"]}
        first, k1, c1, t1 = _rows(_suite_dir(source, verdicts.base_name(d.name)), keys)
        second, k2, c2, t2 = _rows(d)
        kernels[d.name] = (k1, k2)
        moves += shifts(d.name, t1, t2)
        if keys is None:
            fresh.append(d.name)
            steps += [[d.name, m, c1.get(m, "–"), c2.get(m, "–"), "yes" if c1.get(m) == c2.get(m) else "**no**"]
                      for m in sorted(set(c1) | set(c2))]
        by_row = {(r[0], r[CLAIM_COLUMNS.index("setting")]): r for r in second}
        for r in first:
            setting = r[CLAIM_COLUMNS.index("setting")]
            s = by_row.get((r[0], setting))
            if s is None:
                continue
            m1, m2 = r[CLAIM_COLUMNS.index("measured")], s[CLAIM_COLUMNS.index("measured")]
            v1, v2 = r[CLAIM_COLUMNS.index("verdict")], s[CLAIM_COLUMNS.index("verdict")]
            same = verdict_of(v1) == verdict_of(v2)
            i1, i2 = interval_of(m1), interval_of(m2)
            inside = "–" if not (i1 and i2) else ("yes" if i1[1] <= i2[0] <= i1[2] else "no")
            agree_all &= same
            printed = m1 == m2 and v1 == v2
            n_printed += printed
            rows.append([r[0], setting, m1, v1, m2, v2, "yes" if same else "**no**", "yes" if printed else "no",
                         inside])
    second_run = "reproduction" if fresh else "replicate"
    cols = ["claim", "setting", "first run", "verdict", second_run, "verdict ", "same verdict",
            "same printed numbers", f"{second_run} mean inside first interval"]
    text = markdown(cols, rows)
    dump = lambda k: json.dumps(k, sort_keys=True)  # noqa: E731
    paths = "\n".join(f"- `{name}`: first run {dump(a)}; {second_run} {dump(b)}" for name, (a, b) in kernels.items())
    ending = "Every verdict is the same in both runs." if agree_all else "Some verdicts differ: see **no** above."
    moved = [r for r in rows if r[-2] == "no"]
    outside = [r for r in moved if r[-1] == "no"]
    ending += f" The printed numbers are identical in {n_printed} of {len(rows)} rows"
    if moved:
        ending += ("; where they are not, " + (f"the {second_run}'s mean lies inside the first run's interval (last "
                                               "column)" if not outside else
                                               f"the {second_run}'s mean lies outside the first run's interval in "
                                               f"{len(outside)} of {len(moved)} rows (last column)")
                   + ". The other kernels' low bits are amplified by the mixers (a learned mixture moves; fixed "
                   "mixtures do not) and by which batch slots Stage Two's sampling gives each domain.")
    else:
        ending += "."
    if fresh:
        how = (f"Each suite below ({', '.join(f'`{n}`' for n in fresh)}) was reproduced from scratch on another "
               f"CPU (`tandem-bench run SUITE --profile lm`), step-size tuning and the grid of fixed mixtures "
               f"included, and its claim rows compared with the first run's.")
        tuned = ("\n\nStep sizes chosen by each run's tuning (validation split):\n\n"
                 + markdown(["suite", "method parameter", "first run", "reproduction", "same"], steps))
    else:
        how = ("The reported study's cells of each suite below were re-run with the same keys under another CPU "
               "kernel path (`python -m bench.evidence.replicate`); the step sizes chosen by the first run's tuning "
               "are kept.")
        tuned = ""
    moved_by = ("\n\nWhat moved, per method, over the cells both runs computed (the same keys): the largest "
                "change of a returned mixture's weight and of the Stage-Two average test loss. A fixed mixture "
                "trains on the same batches in both runs, so only the kernels' low bits move its loss; a learned "
                "mixture moves too, and then Stage Two's batches differ:\n\n"
                + markdown(["suite", "method", "cells", "max |Δ weight|", "max |Δ test loss| (nats)"], moves))
    doc = (f"# Verdicts on {'another CPU' if fresh else 'another kernel path'}\n\n{how} Kernel paths recorded "
           f"in the cells' provenance:\n\n{paths}{tuned}\n\n{text}\n\n{ending}{moved_by}\n")
    return doc, agree_all


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.evidence.replicate", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="re-run a suite's reported cells here (set the kernel path in the environment)")
    r.add_argument("suite")
    r.add_argument("--methods", default="", help="comma-separated method labels (default: all reported)")
    r.add_argument("--jobs", type=int, default=2)
    c = sub.add_parser("compare", help="write OUT/kernel-path.md comparing both runs' claim rows")
    for q in (r, c):
        q.add_argument("--from", dest="source", type=Path, default=Path("results"))
        q.add_argument("--out", type=Path, default=Path("results/kernel-path"))
    args = p.parse_args(argv)
    try:
        if args.cmd == "run":
            env = {k: os.environ[k] for k in KERNEL_ENV if k in os.environ}
            counts = run(args.suite, args.source, args.out, [m for m in args.methods.split(",") if m], args.jobs)
            print(f"{args.suite}: {counts} (kernel environment {env or 'none: as the machine chooses'})",
                  file=sys.stderr)
        else:
            doc, agree = compare(args.source, args.out)
            results.write_atomic(args.out / "kernel-path.md", doc.encode())
            print(doc)
    except BadInput as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
