"""Paper-style figures, each a pure function of a study's tidy rows and its figure spec.

A study asks for figures in its suite file (``figure = {kind = ..., ...}`` or a list of them):
  trajectories   mixture over training per online method, mean and band over seeds (Fig. 3)
  probes         offline methods: their probe mixtures as a cloud, the chosen mixture marked
  curves         Stage-Two test loss against training steps per method (faster convergence)
  mixtures       learned mixtures as grouped bars per problem, alpha* beside them (Fig. 5)
  twin_distance  ||u - w|| over training per schedule, with and without re-synchronisation (Fig. 7)
  curve          a final score (y) against a parameter (x), mean and 95% interval over seeds, one
                 line per method (or per ``hue``); optional log axes, a fitted slope with the
                 predicted one (``slope``), and a closed-form reference curve (``reference``).
Each function returns (figure, notes) or None when the study has no rows to draw yet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..results import final_rows, logged_rows
from ..suites.schema import FIGURE_KINDS
from .data import SuiteData, domains_of, mean_ci
from .plotting import FLOOR, LABELS, axis_label, first_seed, grid, online, plt


@dataclass
class Figure:
    name: str
    caption: str
    png: Path
    pdf: Path
    notes: list[str]


def trajectories(df: pd.DataFrame, spec: dict):
    """Online methods only: each domain's weight over training, mean over seeds with the band from
    the lowest to the highest seed (the paper's Fig. 3 draws bands over runs)."""
    rows = logged_rows(df)
    if not len(rows):
        return None
    problem = spec.get("problem", rows["problem"].iloc[0])
    rows = rows[rows["problem"] == problem]
    methods = [m for m in dict.fromkeys(rows["method"])
               if (rows["method"] == m).sum() >= 2 and online(rows, m)]
    if not methods:
        return None
    fig, axes = grid(len(methods))
    doms = domains_of(rows)
    colors = plt.cm.tab10(np.arange(len(doms)) % 10)
    seeds = rows["seed"].nunique()
    for ax, m in zip(axes, methods):
        r = rows[rows["method"] == m]
        for c, d in zip(colors, doms):
            g = r.groupby("step")[f"alpha.{d}"]
            mean, lo, hi = g.mean(), g.min(), g.max()
            ax.plot(mean.index, mean.to_numpy(), color=c, label=d)
            if seeds > 1:
                ax.fill_between(mean.index, lo.to_numpy(), hi.to_numpy(), color=c, alpha=0.2, lw=0)
            if f"alpha_star.{d}" in r and r[f"alpha_star.{d}"].notna().any():
                ax.axhline(r[f"alpha_star.{d}"].iloc[0], color=c, ls=":", lw=1)
        ax.set_title(m)
        ax.set_xlabel("proxy steps")
        ax.set_ylabel("mixture weight α")
        ax.set_ylim(-0.02, 1.02)
    handles, labels = axes[0].get_legend_handles_labels()
    band = f"mean over {seeds} seeds, band: lowest to highest seed" if seeds > 1 else "one seed"
    fig.legend(handles, labels, loc="outside upper center", ncol=min(len(labels), 8),
               title=f"mixture trajectories on {problem} ({band}), by domain"
               + (" (dotted: α*)" if any(c.startswith("alpha_star.") and rows[c].notna().any() for c in rows) else ""))
    return fig, []


def probes(df: pd.DataFrame, spec: dict):
    """Offline methods: the probe mixtures they trained (a cloud, one dot per probe and domain) and
    the mixture each chose (a bar), first seed."""
    rows = logged_rows(df)
    fin = final_rows(df)
    if not len(rows) or not len(fin):
        return None
    methods = [m for m in dict.fromkeys(rows["method"]) if not online(rows, m)]
    if not methods:
        return None
    fig, axes = grid(len(methods))
    doms = domains_of(rows)
    seed = int(rows["seed"].min())
    for ax, m in zip(axes, methods):
        r = rows[(rows["method"] == m) & (rows["seed"] == seed)]
        f = fin[(fin["method"] == m) & (fin["seed"] == seed)]
        x = np.arange(len(doms))
        jitter = np.random.default_rng(0).uniform(-0.25, 0.25, size=len(r))
        for j, d in enumerate(doms):
            ax.scatter(x[j] + jitter, r[f"alpha.{d}"], s=8, color="0.5", alpha=0.6,
                       label="probe mixtures" if j == 0 else None)
        if len(f):
            ax.scatter(x, [f[f"alpha.{d}"].iloc[0] for d in doms], marker="D", s=40, color="C3", zorder=3,
                       label="chosen mixture")
        ax.set_xticks(x, doms, rotation=30, ha="right")
        ax.set_title(f"{m} ({len(r)} probes, seed {seed})")
        ax.set_ylabel("mixture weight α")
        ax.set_ylim(-0.02, 1.02)
    axes[0].legend()
    return fig, []


def curves(df: pd.DataFrame, spec: dict):
    """Stage-Two test loss against training steps per method (``curve.*`` columns of the returned
    mixtures' rows), mean over seeds with the band from the lowest to the highest seed."""
    fin = final_rows(df)
    cols = sorted(c for c in fin.columns if c.startswith("curve.") and fin[c].notna().any())
    if not cols:
        return None
    steps = np.array([int(c.split(".")[1]) for c in cols])
    fig, axes = grid(1, size=(6.0, 4.0))
    ax = axes[0]
    for m in dict.fromkeys(fin["method"]):
        v = fin.loc[fin["method"] == m, cols].to_numpy(dtype=np.float64)
        line = ax.plot(steps, v.mean(axis=0), label=m)[0]
        if len(v) > 1:
            ax.fill_between(steps, v.min(axis=0), v.max(axis=0), color=line.get_color(), alpha=0.15, lw=0)
    ax.set_xlabel("Stage-Two training steps")
    ax.set_ylabel("average test loss (nats per byte)")
    if len(cols) > 3:  # the first points (near the initial loss) would flatten the rest
        ax.set_ylim(top=float(np.nanmax(fin[cols[len(cols) // 4]])) + 0.05)
    ax.legend(ncol=2)
    return fig, []


def mixtures(df: pd.DataFrame, spec: dict):
    fin = final_rows(df)
    if not len(fin):
        return None
    problems = list(dict.fromkeys(fin["problem"]))
    methods = list(dict.fromkeys(fin["method"]))
    names = methods + ["α* (exact)"]
    # one distinct colour per method (tab20 beyond 10 methods, so no two bars share a colour)
    cmap = plt.cm.tab10 if len(names) <= 10 else plt.cm.tab20
    colors = dict(zip(names, cmap(np.arange(len(names)) % cmap.N)))
    fig, axes = grid(len(problems), ncols=spec.get("ncols", 3), size=(5.0, 3.2))
    for ax, p in zip(axes, problems):
        r = fin[fin["problem"] == p]
        doms = domains_of(r)
        groups = [(m, r[r["method"] == m], "alpha.") for m in methods if (r["method"] == m).any()]
        if all(f"alpha_star.{d}" in r for d in doms) and r[f"alpha_star.{doms[0]}"].notna().any():
            groups.append((names[-1], r.drop_duplicates("seed"), "alpha_star."))
        width = 0.8 / len(groups)
        x = np.arange(len(doms))
        for k, (name, g, prefix) in enumerate(groups):
            stats = [mean_ci(g[f"{prefix}{d}"]) for d in doms]
            mean = np.array([s[0] for s in stats])
            # the interval of a weight, clipped to [0, 1]
            err = np.array([[s[0] - max(s[1], 0), min(s[2], 1) - s[0]] if s[3] > 1 else [0, 0] for s in stats]).T
            exact = prefix == "alpha_star."
            ax.bar(x + (k - (len(groups) - 1) / 2) * width, mean, width, yerr=err, capsize=2, label=name,
                   hatch="//" if exact else None, color="white" if exact else colors[name],
                   edgecolor="black" if exact else None)
        ax.set_xticks(x, doms, rotation=30 if len(doms) > 4 else 0)
        ax.set_title(f"{p} ({r['seed'].nunique()} seeds)")
        ax.set_ylabel("learned weight α")
    handles = {}
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    shown = [n for n in names if n in handles]
    fig.legend([handles[n] for n in shown], shown, loc="outside upper center", ncol=min(len(shown), 8),
               title="learned mixtures: mean and 95% interval over seeds")
    return fig, []


def twin_distance(df: pd.DataFrame, spec: dict):
    rows = logged_rows(df)
    rows = rows[rows["twin_distance"].notna()] if "twin_distance" in rows else rows.iloc[0:0]
    if not len(rows):
        return None
    problem = spec.get("problem", rows["problem"].iloc[0])
    rows = first_seed(rows[rows["problem"] == problem])
    if "max_step" in spec:
        rows = rows[rows["step"] <= spec["max_step"]]
    fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
    for m in dict.fromkeys(rows["method"]):
        r = rows[rows["method"] == m].sort_values("step")
        ax.plot(r["step"], r["twin_distance"], marker=".", ms=3, label=m)
    ax.set_yscale("log")
    ax.set_xlabel("proxy steps")
    ax.set_ylabel(LABELS["twin_distance"] + " before each update")
    ax.set_title(f"Twin distance with and without re-synchronisation ({problem})")
    ax.legend()
    return fig, []


def _fit(x, y, logx: bool, logy: bool):
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y) & (y > FLOOR if logy else True) & (x > 0 if logx else True)
    if ok.sum() < 2:
        return None
    fx = np.log(x[ok]) if logx else x[ok]
    fy = np.log(y[ok]) if logy else y[ok]
    return float(np.polyfit(fx, fy, 1)[0])


def curve(df: pd.DataFrame, spec: dict):
    fin = final_rows(df)
    x, y = spec["x"], spec["y"]
    if not len(fin) or x not in fin or y not in fin:
        return None
    fin = fin.copy()
    fin[x] = pd.to_numeric(fin[x].map(lambda v: json.loads(v) if isinstance(v, str) else v), errors="coerce")
    hue = spec.get("hue", "method")
    logx, logy = spec.get("logx", False), spec.get("logy", False)
    fig, ax = plt.subplots(figsize=(6.0, 4.0), layout="constrained")
    notes = []
    for h in dict.fromkeys(fin[hue]):
        r = fin[fin[hue] == h]
        xs = sorted(r[x].dropna().unique())
        st = [mean_ci(r.loc[r[x] == v, y]) for v in xs]
        mean = np.array([s[0] for s in st])
        lo = np.array([s[1] if s[3] > 1 else s[0] for s in st])
        hi = np.array([s[2] if s[3] > 1 else s[0] for s in st])
        label = str(h)
        if spec.get("fit") or "slope" in spec:
            k = _fit(xs, mean, logx, logy)
            if k is not None:
                pred = f", predicted {spec['slope']:+.2f}" if "slope" in spec else ""
                label += f" (fitted slope {k:+.2f}{pred})"
                notes.append(f"{h}: fitted slope of {y} against {axis_label(x)}: {k:+.3f}{pred}")
        if logy:  # an interval reaching below zero cannot be drawn on a log axis
            lo = np.where(lo > 0, lo, mean)
        line = ax.plot(xs, mean, marker="o", label=label)[0]
        ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.2)
    ref = spec.get("reference")
    if ref and ref in fin:
        xs = sorted(fin[x].dropna().unique())
        ax.plot(xs, [fin.loc[fin[x] == v, ref].mean() for v in xs], "k--", lw=1.5,
                label=spec.get("reference_label", "closed form (exact optimum)"))
    ax.set_xscale("log" if logx else "linear")
    ax.set_yscale("log" if logy else "linear")
    ax.set_xlabel(spec.get("xlabel", axis_label(x)))
    ax.set_ylabel(spec.get("ylabel", axis_label(y)))
    ax.legend()
    return fig, notes


def figure_specs(study: dict) -> list[dict]:
    spec = study.get("figure")
    return [] if spec is None else spec if isinstance(spec, list) else [spec]


def draw(data: list[SuiteData], folder: Path) -> list[Figure]:
    """Every figure every study asks for, as PNG and PDF under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for sd in data:
        for study in sd.studies:
            for i, spec in enumerate(figure_specs(study)):
                made = FIGURE_KINDS.load(spec["kind"]).function()(sd.study(study["name"]), spec)
                if made is None:
                    continue
                fig, notes = made
                if "title" in spec:
                    fig.axes[0].set_title(spec["title"]) if len(fig.axes) == 1 else fig.suptitle(spec["title"])
                name = f"{sd.name}-{study['name']}" + (f"-{i + 1}" if len(figure_specs(study)) > 1 else "")
                png, pdf = folder / f"{name}.png", folder / f"{name}.pdf"
                fig.savefig(png, dpi=150)
                fig.savefig(pdf, metadata={"CreationDate": None})  # no date: a report is a function of its results
                plt.close(fig)
                out.append(Figure(name, spec.get("caption", study.get("title", study["name"])), png, pdf, notes))
    return out
