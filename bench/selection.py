"""Studies that depend on another study's results: step-size tuning and the best points of a grid.

A study with ``select = [{study = "tune-tandem", by = "val_avg_loss", top = 1, as = "tandem"}]``
runs, beside its own methods, the ``top`` (method, grid point) pairs of the named study of the
same suite that have the lowest mean of ``by`` over that study's seeds (the validation split:
never test). With ``as`` (top = 1) the chosen configuration runs under that method label (a tuned
step size); without it, under "<label>#<rank>" (the best points of a fixed-mixture grid). The
choice is a pure function of the stored source cells (ties broken by the grid point's canonical
text), made by the runner once every source cell is stored, and made again, identically, by the
report, which prints the grid, the chosen values and their tuning cost.

Two more forms, for a model-size ladder (one problem label per size):

- ``per = "problem"``: the choice is made within each problem label of the source study, and each
  chosen configuration runs only on the problem it was chosen on (a step size tuned at every size).
- ``mixture = "<method label>"`` with ``from = "<problem label>"`` and ``on = "<problem label>"``
  (and ``as``): the mixture that method learned on ``from`` (its final alpha, the mean over the
  source study's seeds there) is trained as a fixed mixture on ``on`` only (transfer across scale,
  claim LM-6). The weights are a pure function of the stored cells, so the key is too.
- ``per = "problem"`` with ``on``: the per-problem choice made on that problem only, run there.

A tuned value at an edge of its grid is not tuned. With ``extend = [low, high]`` the source study's
grid (its one varying parameter) extends, at the same spacing, in the direction of an edge choice
(within each problem with ``per``) until the choice is interior or the next value would leave
[low, high], the bounds declared in the suite; each extension point runs on the source study's seeds
and its cells belong to the source study (the report's tuning table shows them). The runner plans
one extension point per round, so every point is a pure function of the stored cells before it.
"""

from __future__ import annotations

import dataclasses
import json
import math

from tandem_ref.errors import BadInput

SELECT_KEYS = {"study", "by", "top", "as", "per", "mixture", "from", "on", "extend"}


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
            raise BadInput(f"{where}: select study {s['study']!r} is not a study of the suite that selects nothing "
                           "or a selecting study declared before it")
        top = s.get("top", 1)
        if not isinstance(top, int) or isinstance(top, bool) or top < 1:
            raise BadInput(f"{where}: select 'top' must be a positive integer, got {top!r}")
        if "as" in s and top != 1:
            raise BadInput(f"{where}: select 'as' names one method: it needs top = 1")
        per = s.get("per")
        if per not in (None, "problem"):
            raise BadInput(f"{where}: select 'per' must be \"problem\", got {per!r}")
        mixture = s.get("mixture")
        if mixture is not None:
            if not (isinstance(mixture, str) and isinstance(s.get("from"), str) and isinstance(s.get("on"), str)
                    and isinstance(s.get("as"), str)):
                raise BadInput(f"{where}: select 'mixture' (a method label) needs 'from' and 'on' (problem labels) "
                               f"and 'as' (the label it runs under), got {s!r}")
        elif "from" in s or ("on" in s and not (per and isinstance(s["on"], str))):
            raise BadInput(f"{where}: select 'from' belongs to a 'mixture' entry and 'on' (a problem label) to a "
                           f"'mixture' or a 'per' entry, got {s!r}")
        extend = s.get("extend")
        if extend is not None and not (
                isinstance(extend, list) and len(extend) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in extend)
                and extend[0] < extend[1] and mixture is None):
            raise BadInput(f"{where}: select 'extend' must be [low, high], the bounds of a tuned value's grid "
                           f"(low < high; not with 'mixture'), got {extend!r}")
        out.append({"study": s["study"], "by": str(s.get("by", "val_avg_loss")), "top": top, "as": s.get("as"),
                    "per": per, "mixture": mixture, "from": s.get("from"), "on": s.get("on"),
                    "extend": None if extend is None else [float(v) for v in extend]})
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


def chosen(spec: dict, candidates) -> list[tuple[str, str, dict, str | None]]:
    """The (label, method registry name, method params, problem label or None) entries a select spec
    adds to its study; a problem label restricts the entry to that problem."""
    if spec.get("mixture"):
        return [_transferred(spec, candidates)]
    groups = {}
    for c in candidates:  # per problem: one ranking per problem label, in the order they come
        groups.setdefault(c[1].get("problem_label") if spec.get("per") else None, []).append(c)
    out = []
    for problem, group in groups.items():
        if spec.get("on") is not None and problem != spec["on"]:
            continue
        for r, (_, label, cell, _) in enumerate(rank(group, spec["by"])[:spec["top"]]):
            name = spec["as"] or f"{label}#{r + 1}"
            out.append((name, cell["method"], dict(cell["method_params"]), problem))
    return out


def _transferred(spec: dict, candidates) -> tuple[str, str, dict, str]:
    """A mixture learned on one problem, as a fixed mixture on another: the mean of the method's final
    alpha over the source study's seeds on ``from`` (domains in the problem's order)."""
    rows = [(cell, row) for cell, labels, row in candidates
            if labels.get("method_label") == spec["mixture"] and labels.get("problem_label") == spec["from"]]
    if not rows:
        raise BadInput(f"select mixture {spec['mixture']!r} from {spec['from']!r}: study {spec['study']!r} "
                       f"has no finished cell of that method on that problem")
    domains = list(rows[0][0]["problem_params"]["domains"])
    alphas = [[float(row[f"alpha.{d}"]) for d in domains] for _, row in sorted(rows, key=lambda t: t[0]["seed"])]
    mean = [sum(a[i] for a in alphas) / len(alphas) for i in range(len(domains))]
    total = sum(mean)
    return spec["as"], "fixed", {"weights": [round(w / total, 12) for w in mean]}, spec["on"]


# --- extending a grid at its edge -----------------------------------------------------------------

def _half_decades(values) -> bool:
    """Values all of the 1-3-10 sequence (1, 3, 10, 30, ... times a power of ten)?"""
    for v in values:
        if not v > 0:
            return False
        mant = v / 10 ** math.floor(math.log10(v))
        if not (math.isclose(mant, 1.0, rel_tol=1e-9) or math.isclose(mant, 3.0, rel_tol=1e-9)
                or math.isclose(mant, 10.0, rel_tol=1e-9)):
            return False
    return True


def next_value(values: list, up: bool):
    """The value one step beyond the sorted grid ``values`` at its top (``up``) or bottom, at the
    grid's spacing: the 1-3-10 sequence where the grid is on it, else geometric (positive values) or
    arithmetic, from the two values at that edge."""
    edge, inner = (values[-1], values[-2]) if up else (values[0], values[1])
    if _half_decades(values):
        k = math.floor(math.log10(edge) + 1e-9)
        mant = round(edge / 10 ** k)
        mant, k = ((3, k) if mant == 1 else (1, k + 1)) if up else ((3, k - 1) if mant == 1 else (1, k))
        nxt = float(f"{mant}e{k}")
    elif edge > 0 and inner > 0:
        nxt = edge * (edge / inner)
    else:
        nxt = edge + (edge - inner)
    return int(round(nxt)) if all(isinstance(v, int) for v in values) else nxt


def _axis(cells) -> str:
    keys = {k for c in cells for k in c.labels.get("grid", {})}
    varying = [k for k in sorted(keys) if len({json.dumps(c.labels["grid"].get(k)) for c in cells}) > 1]
    if len(varying) != 1 or not all(isinstance(c.labels["grid"][varying[0]], (int, float)) for c in cells):
        raise BadInput(f"select 'extend': the tuned study needs one numeric grid parameter that varies, "
                       f"got {', '.join(varying) or 'none'}")
    return varying[0]


def _moved(cell, axis: str, value):
    grid = {**cell.labels["grid"], axis: value}
    name = axis.split(".", 1)[1]
    if axis.startswith("method."):
        return dataclasses.replace(cell, method_params={**cell.method_params, name: value},
                                   labels={**cell.labels, "grid": grid})
    return dataclasses.replace(cell, problem_params={**cell.problem_params, name: value},
                               labels={**cell.labels, "grid": grid})


def extension(spec: dict, source: list, final) -> tuple[list, bool]:
    """The cells the grid of ``spec``'s source study gains at its edges (see the module text), and
    whether they are all stored. ``source``: the source study's planned cells; ``final(cell)``: the
    stored cell's (cell dict, final row), None while it is not stored (a failed cell gives an empty
    row, which ranks last)."""
    if not spec.get("extend") or not source:
        return [], True
    low, high = spec["extend"]
    axis = _axis(source)
    groups = {}
    for c in source:
        groups.setdefault(c.labels.get("problem_label") if spec.get("per") else None, []).append(c)
    added = []
    for group in groups.values():
        while True:
            stored = [final(c) for c in group]
            if any(s is None for s in stored):
                return added, False
            cands = [(cd, c.labels, row) for c, (cd, row) in zip(group, stored)]
            best = rank(cands, spec["by"])[0][3][axis]
            values = sorted({c.labels["grid"][axis] for c in group})
            if best not in (values[0], values[-1]):
                break
            nxt = next_value(values, up=best == values[-1])
            if not low <= nxt <= high:
                break
            new = [_moved(c, axis, nxt) for c in group if c.labels["grid"][axis] == best]
            group += new
            added += new
    return added, True


def edge_note(values, best, bounds) -> str:
    """Why a tuned value at an edge of its grid stands: the declared bound stopped the extension, or
    no extension was declared (said, not hidden: the optimum may lie beyond)."""
    values = sorted(values)
    if len(values) < 2 or best not in (values[0], values[-1]):
        return ""
    if bounds is None:
        return "grid edge: no extension declared for this grid"
    nxt = next_value(values, up=best == values[-1])
    if bounds[0] <= nxt <= bounds[1]:  # results computed before the extension was declared
        return f"grid edge: not yet extended to {nxt:g} (within the declared bounds [{bounds[0]:g}, {bounds[1]:g}])"
    return f"grid edge: the next value {nxt:g} is outside the declared bounds [{bounds[0]:g}, {bounds[1]:g}]"
