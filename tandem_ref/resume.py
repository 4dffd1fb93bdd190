"""One resumable driver for every method (online loop, probe runs, fixed mixtures).

``drive`` starts a method's run, or loads the state saved at ``path``, advances it ``chunk`` updates
(or probe runs) at a time until it is done, and saves it after every chunk (atomically: a run killed
at any instant resumes from its last chunk and ends bitwise as the uninterrupted run would). The
harness's long cells (``bench.runner``) and ``tandem-bench mix --checkpoint`` both use it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from .atomic import remove_stale
from .errors import BadInput


def drive(method, problem, budget: int, seed: int = 0, *, path=None, chunk: int | None = None, save: bool = True,
          restart_unreadable: bool = False, on_chunk=None):
    """The method's finished state. ``path``: resume from it if it exists, and (``save``) write the state
    there after every chunk. An unreadable or foreign state raises BadInput naming the file, or with
    ``restart_unreadable`` is removed and the run starts over. ``on_chunk(state)`` after every chunk."""
    st = None
    if path is not None:
        remove_stale(path)  # what a writer killed mid-save left beside it
        if Path(path).exists():
            try:
                st = method.load(problem, path)
            except BadInput as e:
                if not restart_unreadable:
                    raise
                warnings.warn(f"{e}: starting over", stacklevel=2)
                Path(path).unlink(missing_ok=True)
    if st is None:
        st = method.start(problem, budget, seed)
    while not st.done:
        st = method.advance(problem, st, stop_after=chunk)
        if path is not None and save:
            method.save(problem, st, path)
        if on_chunk is not None:
            on_chunk(st)
    return st
