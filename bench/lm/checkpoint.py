"""Checkpoints of a mixing run (``tandem-bench mix --checkpoint``): resume a killed run of any method
and get the run it would have been.

What a checkpoint holds, for an online method: the loop state of ``tandem_ref.loop.save_state`` (mixture, running
average, signal EMA, trajectory, the loop's random generator, cost) and through the problem's
``state_arrays`` the proxy's and reference's parameters, AdamW moments, step counter, batch-stream
seed and per-domain data position. The LM draws no other random numbers (no dropout; batches are
a function of seed, step and position), so nothing else is needed for a bitwise resume on CPU.
Beside it, ``PATH.json`` names the method, its parameters and the problem's fingerprint, and a
resume with anything else is refused. Both are npz/JSON (``np.load(allow_pickle=False)``): no
pickle is ever loaded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.results import write_json
from tandem_ref.atomic import remove_stale
from tandem_ref.errors import BadInput
from tandem_ref.resume import drive


def _identity(method, problem, budget: int, seed: int) -> dict:
    return {"method": method.name, "params": method.params, "budget": int(budget), "seed": int(seed),
            "problem": problem.fingerprint(), "version": method.version}


def run(method, problem, budget: int, seed: int, path=None, every: int = 0, progress: bool = False):
    """Run ``method`` to the end, saving its state to ``path`` every ``every`` updates (probe runs for
    an offline method) and resuming from it if it exists (``tandem_ref.resume.drive``). Returns the
    method's Trace and its final proxy (None for a method that keeps none)."""
    ident = _identity(method, problem, budget, seed)
    side = None if path is None else Path(f"{path}.json")
    if path is not None:
        remove_stale(side)
        if Path(path).exists():
            if not side.exists():
                raise BadInput(f"{path}: a checkpoint without its {side.name}; cannot tell what run it is")
            saved = json.loads(side.read_text())
            if saved != json.loads(json.dumps(ident, default=str)):
                diff = next(k for k in ident
                            if json.dumps(saved.get(k), default=str) != json.dumps(ident[k], default=str))
                raise BadInput(f"{path}: the checkpoint is of another run ({diff} differs); "
                               "remove it or change --checkpoint")
        else:
            write_json(side, ident)
    chunk = every if every > 0 else (max(1, budget // 20) if progress else None)

    def show(st):
        if progress:
            print(f"\r{method.name}: {st.progress}", end="", file=sys.stderr, flush=True)

    st = drive(method, problem, budget, seed, path=path, chunk=chunk, save=every > 0, on_chunk=show)
    if progress:
        print(file=sys.stderr)
    return method.trace(problem, st), getattr(st, "proxy", None)
