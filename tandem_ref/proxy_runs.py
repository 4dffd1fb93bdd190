"""Proxy-run tables in: a mixtures table and a metrics table, read and checked (``tandem-bench fit``).

    mixtures.csv   run-id column + one column per domain (the weights of each run's training mixture)
    metrics.csv    run-id column + metric columns (one of them the target loss)

The tables join on the run-id column (``join``; by default the first of ``index``, ``run``, ``run_id`` present in
both). How they are read, so that nothing is guessed: UTF-8 (a byte-order mark is dropped), comma-separated with
double quotes, the first line the header, blank lines skipped (pandas.read_csv's defaults); every cell is text
until converted here, and run ids stay text (``1`` and ``1.0`` are two runs; surrounding spaces are dropped).
Every column of the mixtures table but the run id is a domain; the metrics table may hold other columns, only
the target is read. Refused, with one line naming the file, the row (counted from 1 after the header, with its
file line) and the column: a record with more or fewer fields than the header, a duplicate or nameless header
column, a missing, non-numeric or infinite value, a negative weight, a mixture whose weights do not sum to 1
within ``tolerance`` (default 0.01: 17 weights rounded to 3 decimals can be 0.0085 off; the weights are used as
given, not renormalised), a repeated run id, a run in one table but not the other, fewer runs than domains.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import BadInput

JOIN_COLUMNS = ("index", "run", "run_id")
TOLERANCE = 0.01


@dataclass
class Runs:
    """Checked proxy runs: X (n, M) mixtures in the mixtures table's row order, y (n,) the target losses."""

    ids: list[str]
    domains: list[str]
    X: np.ndarray
    y: np.ndarray
    target: str
    join: str
    mixtures: str
    metrics: str


@dataclass
class Table:
    """A CSV table as text: the header, the records, and the file line each record ends on."""

    path: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]

    def column(self, name: str) -> list[str]:
        j = self.header.index(name)
        return [r[j] for r in self.rows]

    def where(self, k: int, col: str | None = None) -> str:
        """Row k (0-based) for a message: "PATH: row k+1 (line L)[, column 'C']"."""
        at = f"{self.path}: row {k + 1} (line {self.lines[k]})"
        return at if col is None else f"{at}, column {col!r}"


def read_table(path) -> Table:
    """A CSV file read with the csv module's defaults (pandas.read_csv's: comma, double quotes, the first line the
    header, blank lines skipped), every cell as text; a record whose number of fields differs from the header's is
    refused, naming its line (pandas would silently take an extra first field for an index)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadInput(f"{path}: not UTF-8 text (byte {e.start}); a table is a CSV file") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header, rows, lines = None, [], []
    try:
        for rec in reader:
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                continue  # a blank line
            if header is None:
                header = rec
                continue
            if len(rec) != len(header):
                raise BadInput(f"{path}: line {reader.line_num}: {len(rec)} fields, the header has {len(header)}")
            rows.append(rec)
            lines.append(reader.line_num)
    except csv.Error as e:
        raise BadInput(f"{path}: line {reader.line_num}: not well-formed CSV ({e})") from None
    if header is None:
        raise BadInput(f"{path}: empty file; expected a CSV table with a header line")
    seen = set()
    for i, name in enumerate(header):
        if not name.strip():
            raise BadInput(f"{path}: line 1, column {i + 1} of the header has no name")
        if name in seen:
            raise BadInput(f"{path}: line 1, column {name!r} appears twice in the header")
        seen.add(name)
    if not rows:
        raise BadInput(f"{path}: no rows after the header")
    return Table(str(path), header, rows, lines)


def _numbers(t: Table, col: str) -> np.ndarray:
    """A column as float64; the first missing, non-numeric or infinite cell is a BadInput naming its row."""
    out = np.empty(len(t.rows))
    for k, raw in enumerate(t.column(col)):
        text = raw.strip()
        try:
            v = float(text)
        except ValueError:
            v = math.nan
        if not math.isfinite(v):
            what = "missing value" if not text else f"not a finite number: {raw!r}"
            raise BadInput(f"{t.where(k, col)}: {what}")
        out[k] = v
    return out


def _ids(t: Table, join: str) -> list[str]:
    ids = [v.strip() for v in t.column(join)]
    first: dict[str, int] = {}
    for k, v in enumerate(ids):
        if not v:
            raise BadInput(f"{t.where(k, join)}: missing run id")
        if v in first:
            raise BadInput(f"{t.where(k, join)}: run {v!r} appears twice (also row {first[v] + 1})")
        first[v] = k
    return ids


def _join_column(mix: Table, met: Table, join):
    if join is not None:
        for t in (mix, met):
            if join not in t.header:
                raise BadInput(f"{t.path}: no run-id column {join!r} (--join); columns: {', '.join(t.header)}")
        return join
    for name in JOIN_COLUMNS:
        if name in mix.header and name in met.header:
            return name
    raise BadInput(f"{mix.path}, {met.path}: no run-id column in both tables (looked for "
                   f"{', '.join(JOIN_COLUMNS)}); name it with --join")


def read_runs(mixtures, metrics, target: str, *, join: str | None = None, tolerance: float = TOLERANCE,
              domains: list[str] | None = None, min_runs: int | None = None) -> Runs:
    """Read and check a mixtures table and a metrics table (module docstring). ``domains``: the domains the
    mixtures table must have (a held-out table of a fit), in that order; ``min_runs``: the least number of runs
    (default: the number of domains)."""
    mix, met = read_table(mixtures), read_table(metrics)
    join = _join_column(mix, met, join)
    if target == join or target not in met.header:
        cols = [c for c in met.header if c != join]
        raise BadInput(f"{metrics}: no target column {target!r} (--target); columns: {', '.join(cols)}")
    cols = [c for c in mix.header if c != join]
    if domains is not None:
        for d in domains:
            if d not in cols:
                raise BadInput(f"{mixtures}: no column {d!r}, a domain of the fitted table")
        for c in cols:
            if c not in domains:
                raise BadInput(f"{mixtures}: line 1, column {c!r} is not a domain of the fitted table")
        cols = list(domains)
    elif len(cols) < 2:
        raise BadInput(f"{mixtures}: {len(cols)} domain column(s) besides {join!r}; a mixture needs at least two")
    ids, met_ids = _ids(mix, join), _ids(met, join)
    X = np.stack([_numbers(mix, c) for c in cols], axis=1)
    for k, row in enumerate(X):
        j = int(np.argmin(row))
        if row[j] < 0:
            raise BadInput(f"{mix.where(k, cols[j])}: negative weight {row[j]:g}")
        s = float(row.sum())
        if abs(s - 1.0) > tolerance:
            raise BadInput(f"{mix.where(k)}: the weights of run {ids[k]!r} sum to {s:.6g}, not 1 "
                           f"(tolerance {tolerance:g}, --tolerance)")
    y_all = _numbers(met, target)
    where = {v: k for k, v in enumerate(met_ids)}
    in_mix = set(ids)
    for k, v in enumerate(met_ids):
        if v not in in_mix:
            raise BadInput(f"{mix.path}: no row for run {v!r}, which {met.path} has in row {k + 1} "
                           f"(line {met.lines[k]})")
    missing = [(k, v) for k, v in enumerate(ids) if v not in where]
    if missing:
        k, v = missing[0]
        raise BadInput(f"{met.path}: no row for run {v!r}, which {mix.path} has in row {k + 1} "
                       f"(line {mix.lines[k]})")
    least = len(cols) if min_runs is None else min_runs
    if len(ids) < least:
        raise BadInput(f"{mixtures}: {len(ids)} runs for {len(cols)} domains; a fit needs at least as many runs "
                       f"as domains")
    y = y_all[[where[v] for v in ids]]
    return Runs(ids, cols, X, y, target, join, str(mixtures), str(metrics))


def read_prior(path, domains: list[str]) -> np.ndarray:
    """A prior mixture from JSON: {domain: weight} over exactly the fitted domains, or a weights file written by
    ``mix``/``fit`` (its "weights" object). Normalised to sum 1."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise BadInput(f"{path}: not UTF-8 text (byte {e.start}); a prior is a JSON file") from None
    except json.JSONDecodeError as e:
        raise BadInput(f"{path}: invalid JSON at line {e.lineno}: {e.msg}") from None
    if isinstance(obj, dict) and isinstance(obj.get("weights"), dict):
        obj = obj["weights"]
    if not isinstance(obj, dict):
        raise BadInput(f"{path}: expected a JSON object {{domain: weight}}")
    for d in obj:
        if d not in domains:
            raise BadInput(f"{path}: {d!r} is not a domain of the fitted table")
    out = []
    for d in domains:
        if d not in obj:
            raise BadInput(f"{path}: no weight for domain {d!r}")
        v = obj[d]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise BadInput(f"{path}: domain {d!r}: expected a non-negative number, got {v!r}")
        out.append(float(v))
    a = np.asarray(out)
    if a.sum() <= 0:
        raise BadInput(f"{path}: the weights sum to 0")
    return a / a.sum()
