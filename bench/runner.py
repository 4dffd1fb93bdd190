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
import traceback
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timezone
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from tandem_ref.errors import BadInput

from . import results
from .cells import Cell, claim_config, key_of, run_config
from .progress import Progress
from .provenance import provenance
from .suites import PROFILES, Suite, expand, folder, selects, study_for_profile


@dataclass
class Planned:
    key: str
    cell: Cell
    config: dict


def build(cell: Cell):
    """The problem and method of a run cell. "problem.seed" fixes the instance across run seeds."""
    from tandem_ref.registry import get_method

    from .problems import make_problem

    params = dict(cell.problem_params)
    instance_seed = params.pop("seed", cell.seed)
    problem = make_problem(cell.problem, instance_seed, params)
    method = get_method(cell.method, **cell.method_params)
    return problem, method


def config_of(cell: Cell, built=None) -> dict:
    if cell.kind == "claim":
        return claim_config(cell)
    problem, method = built or build(cell)
    return run_config(cell, problem, method)


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
        from .selection import chosen

        if out is None:
            return None
        cells_dir = Path(out) / folder(suite, profile) / "cells"
        extra = []
        for spec in specs:
            source = [c for c in cells_so_far if c.labels.get("study") == spec["study"]]
            candidates = []
            for c in source:
                rec = results.read_cell(cells_dir / f"{key(c)}.json")
                if rec is None:
                    return None
                finals = [r for r in rec["rows"] if r.get("final")]
                if rec["status"] == "ok" and finals:
                    candidates.append((rec["cell"], c.labels, finals[-1]))
            if not candidates:
                return None
            extra += chosen(spec, candidates)
        return extra

    out_cells = expand(suite, profile, resolve, pending)
    return [Planned(key(c), c, config_of(c)) for c in out_cells]


# --- computing one cell ------------------------------------------------------------------------

def _kept(n: int, points: int) -> list[int]:
    """Indices of the logged updates kept: evenly spaced, always the last (points = 0: all)."""
    if n == 0:
        return []
    if points <= 0 or points >= n:
        return list(range(n))
    return sorted({int(round(x)) for x in np.linspace(n - 1, 0, points)[::-1]} | {n - 1})


def _trace(cell: Cell, problem, method, state_path: Path):
    """The method's Trace; a long cell (``checkpoint_every``) saves its state every that many updates (or
    probe runs) and resumes from it: any method (``tandem_ref.resume``). A torn or tampered state is
    never resumed from: the cell starts over."""
    from tandem_ref.resume import drive

    if not cell.checkpoint_every:
        return method.run(problem, cell.budget, cell.seed)
    st = drive(method, problem, cell.budget, cell.seed, path=state_path, chunk=cell.checkpoint_every,
               restart_unreadable=True)
    return method.trace(problem, st)


def _run_rows(cell: Cell, problem, method, state_path: Path) -> list[dict]:
    from .scoring import make_scorer

    score = make_scorer(cell.score, problem, cache=state_path.parent.parent.parent / ".cache" / "optima")
    tr = _trace(cell, problem, method, state_path)
    all_rows = tr.rows()
    row_score = (lambda alpha: {}) if getattr(score, "final_only", False) else score
    rows = [{**all_rows[t], **row_score(tr.alpha[t]), "final": False} for t in _kept(len(all_rows), cell.log_points)]
    # The method's answer (the last or the averaged mixture) as one more row, with the cost.
    scores = tr.scores[len(tr.scores) // 2:]
    final = {"update": len(all_rows), "step": int(tr.steps[-1]) if len(tr.steps) else 0,
             "grad_steps": int(tr.cost.get("grad_steps", 0)), "final": True,
             # spread of the signal over the second half of the run (paper Fig. 8)
             "signal_var": float(np.mean(np.var(scores, axis=0))) if len(scores) > 1 else np.nan,
             "twin_distance": float(np.nanmean(tr.twin_distance)) if np.any(np.isfinite(tr.twin_distance))
             else np.nan}
    for j, d in enumerate(tr.domains):
        final[f"alpha.{d}"] = float(tr.output[j])
        final[f"alpha_last.{d}"] = float(tr.alpha_last[j])
        final[f"alpha_avg.{d}"] = float(tr.alpha_average[j])
    final.update(score(tr.output))
    final.update({f"cost.{k}": v for k, v in tr.cost.items()})
    rows.append(final)
    if not np.all(np.isfinite(tr.output)):
        raise FloatingPointError(f"diverged: the returned mixture is not finite ({tr.output})")
    bad = [k for k in ("F", "regret") if k in final and not np.isfinite(final[k])]
    if bad:
        raise FloatingPointError(f"diverged: {', '.join(bad)} not finite at the returned mixture")
    return rows


def _claim_rows(cell: Cell) -> list[dict]:
    from theory.claims import CLAIMS

    return [dict(r) for r in CLAIMS[cell.method](cell.method_params["profile"])]


def compute(planned: Planned, cells_dir: Path) -> dict:
    """Compute one cell and store its record atomically; never raises for a failing cell."""
    cell, t0 = planned.cell, time.perf_counter()
    state_path = cells_dir / f"{planned.key}.state.npz"
    rows, status, reason, prov = [], "ok", "", provenance()
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow on the way to a NaN: reported below
            if cell.kind == "claim":
                rows = _claim_rows(cell)
            else:
                built = build(cell)
                planned_problem = planned.config["problem"]
                if (built[0].fingerprint(), list(built[0].domains)) != (planned_problem["fingerprint"],
                                                                        planned_problem["domains"]):
                    raise RuntimeError("the problem differs from the one planned: it is not a deterministic "
                                       "function of its seed and parameters")
                prov = provenance(built[0])
                rows = _run_rows(cell, *built, state_path)
    except BadInput as e:
        # names and parameters were checked when planning; this is a method that cannot run on this
        # problem (the natural mixture of a problem without domain sizes): not a failure of the method
        status, rows, reason = "inapplicable", [], str(e)
    except Exception as e:  # the sweep goes on: the reason is the result
        status, rows = "failed", []
        reason = (f"{type(e).__name__}: {e}".strip().splitlines() or [""])[0][:500]
        if not isinstance(e, FloatingPointError):  # a bug: say where
            frame = traceback.extract_tb(e.__traceback__)[-1]
            reason += f" ({Path(frame.filename).name}:{frame.lineno})"
    record = {"key": planned.key, "config": planned.config, "cell": cell.as_dict(), "status": status,
              "reason": reason, "rows": rows, "provenance": prov, "wall_s": time.perf_counter() - t0,
              "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    results.write_json(cells_dir / f"{planned.key}.json", record)
    state_path.unlink(missing_ok=True)
    return record


def _compute_in_worker(key: str, cell: dict, config: dict, cells_dir: str) -> tuple[str, str]:
    rec = compute(Planned(key, Cell.from_dict(cell), config), Path(cells_dir))
    return rec["key"], rec["status"]


# --- a sweep ------------------------------------------------------------------------------------

def write_manifest(suite_dir: Path, suite: Suite, profile: str, planned: list[Planned]) -> None:
    results.write_json(suite_dir / "manifest.json", {
        "suite": suite.name, "profile": profile, "description": suite.description,
        "studies": [{k: v for k, v in study_for_profile(s, profile).items()
                     if k in ("name", "title", "figure", "notes")}
                    for s in suite.studies if profile in s.get("profiles", PROFILES)],
        "report": suite.report,
        "cells": [{"key": p.key, "labels": p.cell.labels, "cell": p.cell.as_dict()} for p in planned]})


def sweep(suite: Suite, profile: str, out: Path, jobs: int = 1, csv: bool = False, retry_failed: bool = False,
          progress: bool = True, planned: list[Planned] | None = None) -> dict:
    """Run every cell of ``suite``'s ``profile`` not stored under ``out/<suite>/``; returns counts."""
    if jobs < 1:
        raise BadInput(f"--jobs: expected a positive number of processes, got {jobs}")
    results.check_writable(out)
    suite_dir = Path(out) / folder(suite, profile)
    with results.writer_lock(suite_dir):
        return _sweep(suite, profile, suite_dir, out, jobs, csv, retry_failed, progress, planned)


def _sweep(suite, profile, suite_dir, out, jobs, csv, retry_failed, progress, planned) -> dict:
    t0 = time.perf_counter()
    cells_dir = suite_dir / "cells"
    cells_dir.mkdir(parents=True, exist_ok=True)
    results.remove_partial(cells_dir)
    results.remove_partial(suite_dir)
    computed, bar = 0, None
    has_select = any(selects(s) for s in suite.studies)
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
        run_cells(todo, cells_dir, jobs, bar)
        computed += len(todo)
        retry_failed = False
        if not pending or not todo:  # nothing new can resolve a pending study
            break
    bar.close()
    df, missing = results.collect(suite_dir)
    results.write_table(suite_dir, df, csv=csv)
    failed = int(df.drop_duplicates("key")["status"].eq("failed").sum()) if len(df) else 0
    counts = {"cells": len(unique), "computed": computed, "failed": failed, "missing": len(missing)}
    if pending:  # a selecting study whose source has no usable result
        counts["pending"] = len(pending)
    if computed:
        write_run_record(suite_dir, profile, jobs, time.perf_counter() - t0, computed, df)
    return counts


def write_run_record(suite_dir: Path, profile: str, jobs: int, wall_s: float, computed: int, df) -> None:
    """``run.json`` beside the manifest: how long this sweep took and what a fresh one costs, for the
    performance summary (kept apart from the manifest, which stays a function of the suite). ``fresh``:
    every cell was computed by this sweep, so ``wall_s`` is the time of the whole profile's suite;
    ``cell_seconds``: the sum of the cells' own times (a fresh run's time is about that / jobs)."""
    cells = df.drop_duplicates("key") if len(df) else df
    results.write_json(suite_dir / "run.json", {
        "profile": profile, "jobs": jobs, "wall_s": round(wall_s, 1), "computed": computed, "cells": len(cells),
        "fresh": computed >= len(cells), "cell_seconds": round(float(cells["wall_s"].sum()) if len(cells) else 0.0, 1),
        "git_commit": provenance()["git_commit"], "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")})


def run_cells(todo: list[Planned], cells_dir: Path, jobs: int = 1, bar: Progress | None = None,
              progress: bool = True) -> None:
    """Compute the planned cells into ``cells_dir`` (in ``jobs`` processes), each stored atomically."""
    if bar is None:
        bar = Progress(len(todo), "cells", stream=None if progress else open(os.devnull, "w"))
    if jobs == 1 or len(todo) <= 1:
        for p in todo:
            bar.update(failed=compute(p, cells_dir)["status"] == "failed")
    else:
        _parallel(todo, cells_dir, jobs, bar)


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


def _parallel(todo: list[Planned], cells_dir: Path, jobs: int, bar: Progress) -> None:
    # One BLAS thread per worker: the workers are the parallelism (and small solves are not
    # faster threaded). "spawn" because a forked child of a process that has started threads (torch,
    # BLAS) can deadlock.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=_exit_with_parent,
                             initargs=(os.getpid(),)) as pool:
        pending = {pool.submit(_compute_in_worker, p.key, p.cell.as_dict(), p.config, str(cells_dir)) for p in todo}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                bar.update(failed=f.result()[1] == "failed")
