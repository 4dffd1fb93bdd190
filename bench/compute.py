"""Computing one cell: build its problem and method, run the method (resumably), score the rows,
and store the record atomically. The runner (bench.runner) plans cells and sweeps them."""

from __future__ import annotations

import contextlib
import sys
import time
import traceback
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from tandem_ref.errors import BadInput
from tandem_ref.names import resolve

from . import results
from .cells import KINDS, Cell, build, config_of  # noqa: F401  (config_of, build: the callers' import)
from .provenance import provenance


@dataclass
class Planned:
    key: str
    cell: Cell
    config: dict


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

    every = cell.checkpoint_every or None
    st = drive(method, problem, cell.budget, cell.seed, path=state_path if every else None, chunk=every,
               restart_unreadable=True)
    return method.trace(problem, st)


def _run_rows(cell: Cell, problem, method, state_path: Path, optima: Path) -> list[dict]:
    from .scoring import make_scorer

    score = make_scorer(cell.score, problem, cache=optima)
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


def run_rows(planned: Planned, state_path: Path, cells_dir: Path, pin_torch) -> tuple[list[dict], dict]:
    """A run cell (cells.RunKind): its problem and method built as planned, the method run, its rows scored."""
    cell = planned.cell
    built = build(cell)
    pin_torch(cell.problem_params.get("threads"))
    planned_problem = planned.config["problem"]
    if (built[0].fingerprint(), list(built[0].domains)) != (planned_problem["fingerprint"], planned_problem["domains"]):
        raise RuntimeError("the problem differs from the one planned: it is not a deterministic "
                           "function of its seed and parameters")
    return _run_rows(cell, *built, state_path, results.optima_dir(cells_dir)), provenance(built[0])


def claim_rows(planned: Planned, state_path: Path, cells_dir: Path, pin_torch) -> tuple[list[dict], dict]:
    """A claim cell (cells.ClaimKind): the claim function's verdict rows on its profile."""
    from theory.claims import CLAIMS

    cell = planned.cell
    return [dict(r) for r in CLAIMS[cell.claim](cell.method_params["profile"])], provenance()


@contextlib.contextmanager
def single_threaded():
    """Compute a cell as a worker of ``--jobs N`` does (one BLAS thread, one torch thread unless the
    problem's ``threads`` says otherwise), whatever process it runs in: a reduction split over
    another number of threads rounds differently (measured: a mixing-law fit's chosen mixture moved
    in its last bit between --jobs 1 and --jobs 2), and a cell must be byte-identical either way.
    Yields ``pin_torch``, to call once the cell's problem is built (torch may be imported by then)."""
    from threadpoolctl import threadpool_limits

    saved = {}

    def pin_torch(threads=None):
        torch = sys.modules.get("torch")
        if torch is not None:
            saved.setdefault("torch", torch.get_num_threads())
            torch.set_num_threads(int(threads or 1))

    try:
        with threadpool_limits(limits=1, user_api="blas"):
            pin_torch()
            yield pin_torch
    finally:
        if "torch" in saved:
            sys.modules["torch"].set_num_threads(saved["torch"])


def compute(planned: Planned, cells_dir: Path) -> dict:
    """Compute one cell and store its record atomically under ``cells_dir`` (a suite's cells; the
    exact optima its scorer shares are kept in ``results.optima_dir``); never raises for a failing cell."""
    cell, t0 = planned.cell, time.perf_counter()
    state_path = cells_dir / f"{planned.key}.state.npz"
    rows, status, reason, prov = [], "ok", "", provenance()
    try:
        with single_threaded() as pin_torch, warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow on the way to a NaN: reported below
            rows, prov = resolve(KINDS[cell.kind].compute)(planned, state_path, cells_dir, pin_torch)
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
