"""Atomic writes, the one implementation every writer of the project uses.

A file is written to a temporary beside it, flushed to disk and renamed over the target, so a
reader (or a resumed run) sees the old file or the whole new one, never a partial one. The
temporary is named ``.tmp-<target name>-<random>``: a writer killed between the write and the
rename (SIGKILL runs no cleanup) leaves a temporary that the next writer of the same target
recognises as its own and removes (``remove_stale``), and that a folder sweep removes by prefix.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

TMP_PREFIX = ".tmp-"


def write_atomic(path, data: bytes) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{TMP_PREFIX}{path.name}-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def remove_stale(path) -> int:
    """Delete the temporaries a killed writer of ``path`` left beside it; returns how many."""
    path = Path(path)
    n = 0
    if path.parent.is_dir():
        for p in path.parent.glob(f"{TMP_PREFIX}{path.name}-*"):
            p.unlink(missing_ok=True)
            n += 1
    return n


def write_json(path, obj) -> None:
    """``obj`` as JSON (sorted keys, numpy scalars and arrays as numbers and lists), atomically."""
    write_atomic(path, json.dumps(obj, indent=1, sort_keys=True, default=_json_default).encode())


def _json_default(x):
    import numpy as np

    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON-able: {type(x).__name__}")
