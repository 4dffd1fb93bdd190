"""Checkpoints of a mixing run: resume a killed run and get the run it would have been.

What a checkpoint holds: the loop state of ``tandem_ref.loop.save_state`` (mixture, running
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
from tandem_ref import loop
from tandem_ref.atomic import remove_stale
from tandem_ref.errors import BadInput
from tandem_ref.methods.base import OnlineMethod


def _identity(method, problem, budget: int, seed: int) -> dict:
    return {"method": method.name, "params": method.params, "budget": int(budget), "seed": int(seed),
            "problem": problem.fingerprint(), "version": method.version}


def run(method, problem, budget: int, seed: int, path=None, every: int = 0, progress: bool = False):
    """Run ``method`` to the end, saving the loop state to ``path`` every ``every`` updates and
    resuming from it if it exists. Returns the method's Trace and its final proxy (None for a
    method that trains nothing)."""
    if not isinstance(method, OnlineMethod):
        return method.run(problem, budget, seed), None
    ident = _identity(method, problem, budget, seed)
    side = None if path is None else Path(f"{path}.json")
    if path is not None:  # what a writer killed mid-save left beside the checkpoint
        remove_stale(path)
        remove_stale(side)
    if path is not None and Path(path).exists():
        if not side.exists():
            raise BadInput(f"{path}: a checkpoint without its {side.name}; cannot tell what run it is")
        saved = json.loads(side.read_text())
        if saved != json.loads(json.dumps(ident, default=str)):
            diff = next(k for k in ident if json.dumps(saved.get(k), default=str) != json.dumps(ident[k], default=str))
            raise BadInput(f"{path}: the checkpoint is of another run ({diff} differs); "
                           "remove it or change --checkpoint")
        st = loop.load_state(problem, path)
    else:
        st = method.start(problem, budget, seed)
        if path is not None:
            write_json(side, ident)
    chunk = every if every > 0 else (max(1, budget // 20) if progress else None)
    while not st.done:
        st = method.advance(problem, st, stop_after=chunk)
        if path is not None and every > 0:
            loop.save_state(problem, st, path)
        if progress:
            print(f"\r{method.name}: {st.steps}/{st.budget} proxy steps", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return method.trace(problem, st), st.proxy
