"""What every figure shares: matplotlib's headless backend and style, axis labels, panel grids, and
which methods' logged rows are trajectories."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

plt.rcParams.update({"font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10, "legend.fontsize": 8,
                     "axes.grid": True, "grid.alpha": 0.3, "figure.dpi": 100, "savefig.bbox": "tight"})
FLOOR = 1e-11  # numerical floor: points below it carry no slope information (research/theory.md 8)
LABELS = {"l1": "ℓ1 distance to α*", "regret": "regret F(α̂) − F(α*)", "gain": "gain F(uniform) − F(α̂)",
          "gain_captured": "share of the optimal gain captured", "signal_var": "signal variance",
          "twin_distance": "twin distance ‖u − w‖", "fw_gap": "Frank-Wolfe gap",
          "cost.grad_steps": "gradient steps", "wall_s": "seconds"}



def axis_label(col: str) -> str:
    if col in LABELS:
        return LABELS[col]
    return col.split(".", 1)[-1] if "." in col else col


def first_seed(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["seed"] == df["seed"].min()]


def grid(n: int, ncols: int = 3, size=(4.2, 3.0)):
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False,
                             layout="constrained")
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def online(rows: pd.DataFrame, method: str) -> bool:
    """Whether a method (label) of the rows is an online mixer (its logged rows are a trajectory);
    an offline method's logged rows are its probe mixtures, not a path through time."""
    from tandem_ref.methods.base import OnlineMethod
    from tandem_ref.registry import method_class

    names = rows.loc[rows["method"] == method, "method_name"] if "method_name" in rows else []
    try:
        return len(names) > 0 and issubclass(method_class(str(names.iloc[0])), OnlineMethod)
    except Exception:  # a method this checkout does not know: drawn as before
        return True
