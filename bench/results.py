"""Stored results: atomic files, the per-suite layout, and the tidy table.

Layout of ``OUT/<suite>/``:
  manifest.json        the planned cells of the last sweep (key, labels, cell config), written first
  cells/<key>.json     one finished cell: config, status, reason, rows, provenance (written atomically)
  cells/<key>.state.npz  the loop state of a long cell in progress (removed when it finishes)
  results.parquet      the tidy table: one row per cell per logged step (plus results.csv on request)
The cell files are the cache; the tidy table is rebuilt from them and is what reports read, so a
checkout that keeps only the tables (results/.gitignore drops cells/) can still be reported on.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from tandem_ref.atomic import TMP_PREFIX, write_atomic, write_json  # noqa: F401  (write_json: the writers' import)
from tandem_ref.errors import BadInput

from .cells import KINDS

# Columns that differ between two runs of the same cells (wall-clock); everything else is identical.
TIMING_COLUMNS = ("wall_s", "finished")


def remove_partial(folder: Path) -> int:
    """Delete temporaries left by a killed writer (they are never read as results)."""
    n = 0
    if folder.is_dir():
        for p in folder.glob(TMP_PREFIX + "*"):
            p.unlink(missing_ok=True)
            n += 1
    return n


LOCK_NAME = ".lock"


@contextmanager
def writer_lock(folder: Path):
    """Hold an exclusive lock on a results folder while a sweep writes into it.

    A second ``run`` on the same folder would compute every cell again and, when it starts, delete
    the first one's in-flight temporaries (``remove_partial``): it refuses instead, naming the
    holder. ``flock`` is released by the kernel when the holder exits in any way (SIGKILL
    included), so a killed run never leaves a stale lock; the file itself stays (empty of meaning
    once unlocked). Where ``fcntl`` does not exist (Windows) there is no lock."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on the supported platforms' CI
        yield
        return
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            raise BadInput(f"{folder}: another tandem-bench run (pid {holder}) is writing here; wait for it "
                           "to finish or give another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def check_out_file(out: Path) -> None:
    """BadInput unless ``out`` can be a JSON file written by ``mix`` or ``fit``: not a folder, in an
    existing folder. Checked before any work, so a bad path costs nothing."""
    out = Path(out)
    if out.is_dir():
        raise BadInput(f"--out {out}: is a folder; give the path of the weights JSON to write")
    if out.parent.exists() and not out.parent.is_dir():
        raise BadInput(f"--out {out}: {out.parent} is a file, not a folder")
    if not out.parent.exists():
        raise BadInput(f"--out: folder {out.parent} does not exist")


def check_writable(out: Path) -> None:
    """BadInput unless ``out`` is, or can be made, a writable folder. Leaves nothing behind: it
    probes the nearest existing ancestor with a temporary file (permission bits alone do not tell,
    for root or on a read-only mount)."""
    p = Path(out).absolute()
    while not p.exists() and p.parent != p:
        p = p.parent
    if not p.is_dir():
        raise BadInput(f"output directory {out}: {p} is not a directory")
    try:
        fd, tmp = tempfile.mkstemp(dir=p, prefix=TMP_PREFIX)
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        raise BadInput(f"output directory {out}: {p} is not writable ({e.strerror})") from None


def suite_dirs(out: Path) -> list[Path]:
    return sorted(p.parent for p in Path(out).glob("*/manifest.json"))


def read_run(suite_dir: Path) -> dict:
    """The suite folder's run.json (when and at which commits its last sweep computed), {} without one."""
    try:
        run = json.loads((Path(suite_dir) / "run.json").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return run if isinstance(run, dict) else {}


def read_manifest(suite_dir: Path) -> dict:
    path = Path(suite_dir) / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadInput(f"manifest {path}: cannot read ({e})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("cells"), list) or "suite" not in manifest:
        raise BadInput(f"manifest {path}: not a suite manifest (no 'suite' or 'cells'); rerun the suite to rebuild it")
    return manifest


def read_cell(path: Path) -> dict | None:
    """A stored cell, or None when there is none. A cell file that is not a complete record (a torn
    write by another tool, a disk error) counts as missing, with a warning: it is recomputed."""
    try:
        rec = json.loads(Path(path).read_text())
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        warnings.warn(f"cell file {path}: unreadable ({type(e).__name__}); treated as missing and recomputed",
                      stacklevel=1)
        return None
    if not isinstance(rec, dict) or not {"key", "status", "rows", "cell", "config"} <= set(rec):
        warnings.warn(f"cell file {path}: not a cell record; treated as missing and recomputed", stacklevel=1)
        return None
    return rec


def cell_rows(entry: dict, record: dict, suite: str, profile: str) -> list[dict]:
    """Tidy rows of one stored cell: identification, every parameter, provenance, then its rows."""
    cell, labels = record["cell"], entry["labels"]
    base = {"suite": suite, "profile": profile, "study": labels["study"], "key": record["key"],
            "kind": cell["kind"], "problem": labels.get("problem_label", ""), "problem_name": cell["problem"],
            "method": labels.get("method_label", ""), "method_name": cell["method"], "seed": cell["seed"],
            "budget": cell["budget"], "status": record["status"], "reason": record["reason"],
            "wall_s": record["wall_s"], "finished": record["finished"]}
    base.update(KINDS[cell["kind"]].table_fields(cell, record["config"]))
    base.update({f"grid.{k}": json.dumps(v) if isinstance(v, (list, dict)) else v
                 for k, v in labels.get("grid", {}).items()})
    base.update(record["provenance"])
    rows = record["rows"] or [{}]
    return [{**base, **r} for r in rows]


@contextmanager
def suite_folder(suite_dir: Path):
    """A suite's results folder made ready to write into (the sweep's and the replicate's one set-up):
    locked (``writer_lock``), its cells folder made, and the temporaries a killed writer left removed.
    Yields the cells folder."""
    suite_dir = Path(suite_dir)
    with writer_lock(suite_dir):
        cells_dir = suite_dir / "cells"
        cells_dir.mkdir(parents=True, exist_ok=True)
        remove_partial(cells_dir)
        remove_partial(suite_dir)
        yield cells_dir


def rebuild_table(suite_dir: Path, csv: bool = False) -> tuple[pd.DataFrame, list[dict]]:
    """Collect a suite folder's cells into its tidy table and write it: (table, missing cells)."""
    df, missing = collect(suite_dir)
    write_table(suite_dir, df, csv=csv)
    return df, missing


def collect(suite_dir: Path) -> tuple[pd.DataFrame, list[dict]]:
    """The tidy table of a suite folder, and the manifest entries that have no stored result.

    Reads the cell files when they are there (the cache is the truth); otherwise the stored table."""
    suite_dir = Path(suite_dir)
    manifest = read_manifest(suite_dir)
    cells = suite_dir / "cells"
    if not cells.is_dir():
        table = read_table(suite_dir)
        have = set(table["key"]) if len(table) else set()
        return table, [e for e in manifest["cells"] if e["key"] not in have]
    rows, missing = [], []
    for entry in manifest["cells"]:
        record = read_cell(cells / f"{entry['key']}.json")
        if record is None:
            missing.append(entry)
        else:
            rows += cell_rows(entry, record, manifest["suite"], manifest["profile"])
    return tidy_frame(rows), missing


def tidy_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for c in df.columns:
        if df[c].dtype == object:
            vals = df[c].dropna()
            if len(vals) and not all(isinstance(v, str) for v in vals):
                if all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in vals):
                    df[c] = pd.to_numeric(df[c])
                elif not all(isinstance(v, (bool, np.bool_)) for v in vals):
                    # a column mixing kinds (a parameter that is a number here and a name there)
                    df[c] = df[c].map(lambda v: v if v is None or (isinstance(v, float) and np.isnan(v))
                                      else json.dumps(v) if not isinstance(v, str) else v)
    return df


def write_table(suite_dir: Path, df: pd.DataFrame, csv: bool = False) -> None:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    write_atomic(Path(suite_dir) / "results.parquet", buf.getvalue())
    if csv:
        write_atomic(Path(suite_dir) / "results.csv", df.to_csv(index=False).encode())


def read_table(suite_dir: Path) -> pd.DataFrame:
    path = Path(suite_dir) / "results.parquet"
    if not path.exists():
        return pd.DataFrame({"key": []})
    try:
        return pd.read_parquet(path)
    except Exception as e:  # truncated or not a parquet file at all
        raise BadInput(f"results table {path}: unreadable ({type(e).__name__}); rerun the suite to rebuild "
                       "it") from None


def optima_dir(cells_dir: Path) -> Path:
    """Where the exact optima the scorers compute are kept: ``OUT/optima`` for the cells of any suite
    under ``OUT`` (``OUT/SUITE/cells``), so every suite of one results root shares them. The committed
    results ship theirs (results/optima): a fresh clone's sweep then reads each one, checked
    (bench.scoring._optimum), instead of making the first method that asks pay its solve (42 s on the
    slower CPU kind for the methods suite's uniform and natural cells)."""
    return Path(cells_dir).parent.parent / "optima"


# --- the rows of a tidy table -------------------------------------------------------------

def _rows(df: pd.DataFrame, final: bool) -> pd.DataFrame:
    if "final" not in df.columns:  # no run finished yet (claims only, or every cell failed)
        return df.iloc[0:0]
    return df[(df["final"] == final) & (df["status"] == "ok")]


def final_rows(df: pd.DataFrame) -> pd.DataFrame:
    """One row per finished cell: the method's returned mixture with its scores and cost."""
    return _rows(df, True)


def logged_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of the logged updates of the finished cells."""
    return _rows(df, False)
