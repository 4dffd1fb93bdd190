"""Studies that depend on another study's results: step-size tuning and the best points of a grid.

A study with ``select = [{study = "tune-tandem", by = "val_avg_loss", top = 1, as = "tandem"}]``
runs, beside its own methods, the ``top`` (method, grid point) pairs of the named study of the
same suite that have the lowest mean of ``by`` over that study's seeds (the validation split:
never test). With ``as`` (top = 1) the chosen configuration runs under that method label (a tuned
step size); without it, under "<label>#<rank>" (the best points of a fixed-mixture grid). The
choice is a pure function of the stored source cells (ties broken by the grid point's canonical
text), made by the runner once every source cell is stored, and made again, identically, by the
report, which prints the grid, the chosen values and their tuning cost.
"""

from __future__ import annotations

import json
import math

from tandem_ref.errors import BadInput

SELECT_KEYS = {"study", "by", "top", "as"}


def check(where: str, select, study_names: list[str]) -> list[dict]:
    """The study's select entries, checked (its sources must be earlier studies of the suite)."""
    if select is None:
        return []
    specs = select if isinstance(select, list) else [select]
    out = []
    for s in specs:
        if not isinstance(s, dict) or set(s) - SELECT_KEYS or not isinstance(s.get("study"), str):
            raise BadInput(f"{where}: 'select' entries are tables with keys {', '.join(sorted(SELECT_KEYS))} "
                           f"('study' required), got {s!r}")
        if s["study"] not in study_names:
            raise BadInput(f"{where}: select study {s['study']!r} is not a study of the suite that selects nothing")
        top = s.get("top", 1)
        if not isinstance(top, int) or isinstance(top, bool) or top < 1:
            raise BadInput(f"{where}: select 'top' must be a positive integer, got {top!r}")
        if "as" in s and top != 1:
            raise BadInput(f"{where}: select 'as' names one method: it needs top = 1")
        out.append({"study": s["study"], "by": str(s.get("by", "val_avg_loss")), "top": top, "as": s.get("as")})
    return out


def _grid_text(grid: dict) -> str:
    return json.dumps(grid, sort_keys=True, separators=(",", ":"))


def rank(candidates, by: str) -> list[tuple[float, str, dict, dict]]:
    """(mean of ``by``, method label, cell, grid) per configuration, best first. ``candidates`` are
    (cell dict, labels, final row) of the source study's finished cells."""
    groups: dict[tuple[str, str], list] = {}
    for cell, labels, row in candidates:
        k = (labels["method_label"], _grid_text(labels.get("grid", {})))
        groups.setdefault(k, [cell, labels.get("grid", {}), []])[2].append(row.get(by, math.nan))
    scored = []
    for (label, gtext), (cell, grid, values) in groups.items():
        vals = [float(v) for v in values if v is not None and math.isfinite(float(v))]
        mean = sum(vals) / len(vals) if vals else math.inf
        scored.append((mean, label, gtext, cell, grid))
    scored.sort(key=lambda t: (t[0], t[1], t[2]))
    return [(m, label, cell, grid) for m, label, _, cell, grid in scored]


def chosen(spec: dict, candidates) -> list[tuple[str, str, dict]]:
    """The (label, method registry name, method params) entries a select spec adds to its study."""
    out = []
    for r, (_, label, cell, _) in enumerate(rank(candidates, spec["by"])[:spec["top"]]):
        name = spec["as"] or f"{label}#{r + 1}"
        out.append((name, cell["method"], dict(cell["method_params"])))
    return out
