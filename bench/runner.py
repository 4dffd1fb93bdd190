"""The resumable, cached, parallel runner.

``plan`` builds every cell of a suite's profile and its key (this validates every name and
parameter before anything is written); ``sweep`` writes the manifest, skips the cells whose result
is stored, computes the rest (in ``jobs`` processes) and rebuilds the tidy table. A killed sweep
resumes where it stopped: each finished cell is one atomic file, so at most the cells in flight are
redone, and a long cell with ``checkpoint_every`` resumes from its last saved loop state.
A failed cell (an exception, NaN, divergence) is stored with its reason and the sweep goes on;
``retry_failed`` recomputes those.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from datetime import datetime, timezone
from multiprocessing import get_context
from pathlib import Path

from tandem_ref.errors import BadInput

from . import results
from .cells import Cell, key_of
from .compute import Planned, _compute_in_worker, compute, config_of
from .progress import Progress
from .provenance import design_commit, provenance
from .suites import Suite, expand, folder


def plan(suite: Suite, profile: str, out: Path | None = None, pending: list | None = None) -> list[Planned]:
    """Every cell of the suite's profile with its key. Studies that select from another study's
    results (bench/selection.py) are planned once that study's cells are all stored under ``out``;
    until then their names go to ``pending``."""
    keys: dict[int, str] = {}

    def key(cell: Cell) -> str:
        if id(cell) not in keys:
            keys[id(cell)] = key_of(config_of(cell))
        return keys[id(cell)]

    def resolve(study, specs, cells_so_far):
        from .selection import chosen, extension

        if out is None:
            return None, []
        cells_dir = Path(out) / folder(suite, profile) / "cells"

        read: dict[str, tuple | None] = {}  # each stored cell read once (the extension re-ranks its grid per point)

        def final(c: Cell):
            k = key(c)
            if k not in read:
                rec = results.read_cell(cells_dir / f"{k}.json")
                finals = [] if rec is None else [r for r in rec["rows"] if r.get("final")]
                read[k] = None if rec is None else (rec["cell"], finals[-1] if rec["status"] == "ok" and finals else {})
            return read[k]

        extra, added = [], []
        for spec in specs:
            source = [c for c in cells_so_far if c.labels.get("study") == spec["study"]]
            grown, complete = extension(spec, source, final)  # a tuned value at its grid's edge
            added += grown
            if not complete:
                return None, added
            candidates = []
            for c in source + grown:
                stored = final(c)
                if stored is None:
                    return None, added
                if stored[1]:
                    candidates.append((stored[0], c.labels, stored[1]))
            if not candidates:
                return None, added
            extra += chosen(spec, candidates)
        return extra, added

    out_cells = expand(suite, profile, resolve, pending)
    return [Planned(key(c), c, config_of(c)) for c in out_cells]


# --- a sweep ------------------------------------------------------------------------------------

def write_manifest(suite_dir: Path, suite: Suite, profile: str, planned: list[Planned]) -> None:
    results.write_json(suite_dir / "manifest.json", {
        "suite": suite.name, "profile": profile, "description": suite.description,
        "studies": [s.at(profile).manifest_entry() for s in suite.studies if profile in s.profiles],
        "report": suite.report.as_dict(),
        "cells": [{"key": p.key, "labels": p.cell.labels, "cell": p.cell.as_dict()} for p in planned]})


def sweep(suite: Suite, profile: str, out: Path, jobs: int = 1, csv: bool = False, retry_failed: bool = False,
          progress: bool = True, planned: list[Planned] | None = None, pool=None) -> dict:
    """Run every cell of ``suite``'s ``profile`` not stored under ``out/<suite>/``; returns counts.
    ``pool``: worker processes to compute in (``worker_pool``), kept by a caller that sweeps several
    suites, so each worker imports the libraries and builds the embedded corpus once, not per suite."""
    if jobs < 1:
        raise BadInput(f"--jobs: expected a positive number of processes, got {jobs}")
    results.check_writable(out)
    suite_dir = Path(out) / folder(suite, profile)
    with results.suite_folder(suite_dir) as cells_dir:
        return _sweep(suite, profile, suite_dir, cells_dir, out, jobs, csv, retry_failed, progress, planned, pool)


def longest_first(todo: list[Planned], suite_dir: Path) -> list[Planned]:
    """The cells in decreasing order of the time the same (study, problem, method) took in the stored
    table of the last sweep (unknown ones first, in plan order), so that two workers do not end a
    suite with one of them idle behind a long cell. Any order gives the same bits (every cell is a
    function of its config; tests/harness/test_runner.py)."""
    table = results.read_table(suite_dir)
    if not len(table) or "wall_s" not in table:
        return todo
    cols = [c for c in ("study", "problem", "method") if c in table]
    took = table.drop_duplicates("key").groupby(cols, dropna=False)["wall_s"].mean().to_dict()

    def cost(p: Planned) -> float:
        labels = {"study": p.cell.labels.get("study"), "problem": p.cell.labels.get("problem_label"),
                  "method": p.cell.labels.get("method_label")}
        k = tuple(labels[c] for c in cols)
        return took.get(k if len(k) > 1 else k[0], float("inf"))

    return sorted(todo, key=cost, reverse=True)  # stable: plan order among equals


def _sweep(suite, profile, suite_dir, cells_dir, out, jobs, csv, retry_failed, progress, planned, pool=None) -> dict:
    t0 = time.perf_counter()
    computed, bar = 0, None
    has_select = any(s.selects for s in suite.studies)
    # Rounds: a study that selects from another's results (tuned step sizes, a grid's best points)
    # is planned once its source is stored, so a round may add cells; it ends when none are left.
    while True:
        pending: list[str] = []
        if planned is None or has_select:
            planned = plan(suite, profile, out, pending)
        write_manifest(suite_dir, suite, profile, planned)
        unique = list({p.key: p for p in planned}.values())
        todo = []
        for p in unique:
            rec = results.read_cell(cells_dir / f"{p.key}.json")
            if rec is None or (retry_failed and rec["status"] == "failed"):
                todo.append(p)
        if bar is None:
            bar = Progress(len(unique), f"{suite.name}/{profile}", cached=len(unique) - len(todo),
                           stream=None if progress else open(os.devnull, "w"))
        bar.total = len(unique)
        bar.draw(force=True)
        run_cells(longest_first(todo, suite_dir), cells_dir, jobs, bar, pool=pool)
        computed += len(todo)
        retry_failed = False
        if not pending or not todo:  # nothing new can resolve a pending study
            break
    bar.close()
    df, missing = results.rebuild_table(suite_dir, csv=csv)
    failed = int(df.drop_duplicates("key")["status"].eq("failed").sum()) if len(df) else 0
    counts = {"cells": len(unique), "computed": computed, "failed": failed, "missing": len(missing)}
    if pending:  # a selecting study whose source has no usable result
        counts["pending"] = len(pending)
    if computed:
        write_run_record(suite_dir, profile, jobs, time.perf_counter() - t0, computed, df, design=suite.path)
    return counts


def write_run_record(suite_dir: Path, profile: str, jobs: int, wall_s: float, computed: int, df,
                     design: Path | None = None) -> None:
    """``run.json`` beside the manifest: how long this sweep took and what a fresh one costs, for the
    performance summary (kept apart from the manifest, which stays a function of the suite). ``fresh``:
    every cell was computed by this sweep, so ``wall_s`` is the time of the whole profile's suite;
    ``cell_seconds``: the sum of the cells' own times (a fresh run's time is about that / jobs);
    ``design_commit``: the commit that last changed the suite file (bench.provenance.design_commit)."""
    cells = df.drop_duplicates("key") if len(df) else df
    results.write_json(suite_dir / "run.json", {
        "profile": profile, "jobs": jobs, "wall_s": round(wall_s, 1), "computed": computed, "cells": len(cells),
        "fresh": computed >= len(cells), "cell_seconds": round(float(cells["wall_s"].sum()) if len(cells) else 0.0, 1),
        "git_commit": provenance()["git_commit"], "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **({"design_commit": design_commit(design)} if design is not None else {})})


def run_cells(todo: list[Planned], cells_dir: Path, jobs: int = 1, bar: Progress | None = None,
              progress: bool = True, pool=None) -> None:
    """Compute the planned cells into ``cells_dir`` (in ``jobs`` processes, or in ``pool``), each
    stored atomically."""
    if bar is None:
        bar = Progress(len(todo), "cells", stream=None if progress else open(os.devnull, "w"))
    if pool is not None:
        _parallel(todo, cells_dir, pool, bar)
    elif jobs == 1 or len(todo) <= 1:
        for p in todo:
            bar.update(failed=compute(p, cells_dir)["status"] == "failed")
    else:
        with worker_pool(jobs) as own:
            _parallel(todo, cells_dir, own, bar)


def _exit_with_parent(parent: int) -> None:
    """In each worker: exit when the sweep that started it is gone. A SIGKILLed parent runs no
    cleanup, and its workers would otherwise finish (and write) cells nobody waits for, or sit on
    the pool's queue forever. A daemon thread polls the parent pid once a second; the cell in
    flight is lost (its temporary is removed by the next sweep), every finished cell is kept."""
    import threading

    def watch():
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


@contextmanager
def worker_pool(jobs: int):
    """``jobs`` worker processes for ``run_cells`` (None for one job: cells then compute in-process).
    One BLAS thread per worker: the workers are the parallelism (and small solves are not faster
    threaded). "spawn" because a forked child of a process that has started threads (torch, BLAS)
    can deadlock."""
    if jobs < 2:
        yield None
        return
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=_exit_with_parent,
                             initargs=(os.getpid(),)) as pool:
        yield pool


def _parallel(todo: list[Planned], cells_dir: Path, pool: ProcessPoolExecutor, bar: Progress) -> None:
    pending = {pool.submit(_compute_in_worker, p.key, p.cell.as_dict(), p.config, str(cells_dir)) for p in todo}
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        for f in done:
            bar.update(failed=f.result()[1] == "failed")
