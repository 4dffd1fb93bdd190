"""tandem-bench fit --mixtures MIX.csv --metrics LOSS.csv --target COLUMN [--method regmix|mixing-laws|linear]
[--prior PRIOR.json] [--out weights.json]

A mixture from proxy runs you already have: a mixtures table (run id + one column per domain) and a metrics table
(run id + losses), joined on the run id. Fits the method's regression of the target loss on the mixture, reports
its k-fold cross-validated Spearman rho and MAE (and on a held-out pair of tables with --test-mixtures and
--test-metrics), proposes a mixture the way the method's paper does, and writes the weights JSON (the same
"weights" object as `mix`, plus the fit's diagnostics) and, beside it, a plot of predicted against measured loss
(<out stem>-fit.png). Every input is checked before anything is written (tandem_ref/proxy_runs.py says how the
tables are read); the library behind it is tandem_ref/fit.py."""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path

from tandem_ref.errors import BadInput


def plot_path(out: Path) -> Path:
    return out.with_name(out.stem + "-fit.png")


def _sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _plot_png(runs, fitted, test, test_pred, test_scores) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 5.0))
    rho = lambda s: "–" if s["spearman"] is None else f"{s['spearman']:.4f}"  # noqa: E731
    pts = [(fitted.cv_predictions, runs.y, f"{fitted.cv['folds']}-fold CV, {runs.y.size} runs: "
                                           f"ρ {rho(fitted.cv)}", "#3b6fb6")]
    if test is not None:
        pts.append((test_pred, test.y, f"held out, {test.y.size} runs: ρ {rho(test_scores)}", "#c0392b"))
    lo = min(min(p.min(), y.min()) for p, y, _, _ in pts)
    hi = max(max(p.max(), y.max()) for p, y, _, _ in pts)
    ax.plot([lo, hi], [lo, hi], color="0.6", lw=1, ls="--", zorder=0)
    for p, y, label, color in pts:
        ax.scatter(p, y, s=9, alpha=0.6, color=color, label=label, edgecolors="none")
    ax.set_xlabel("predicted loss")
    ax.set_ylabel("measured loss")
    ax.set_title(f"{fitted.method}: {runs.target}", fontsize=9)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(True, alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def run(args) -> int:
    from bench.commands.mix import parse_param
    from bench.results import check_out_file, write_json
    from tandem_ref import fit as F
    from tandem_ref.atomic import write_atomic
    from tandem_ref.proxy_runs import read_prior, read_runs

    # --- every input checked before any work or any write -----------------------------------------------
    out = Path(args.out)
    check_out_file(out)
    if (args.test_mixtures is None) != (args.test_metrics is None):
        raise BadInput("--test-mixtures and --test-metrics: give both (a held-out mixtures table and its metrics)")
    if not (args.tolerance >= 0):
        raise BadInput(f"--tolerance: expected a non-negative number, got {args.tolerance}")
    for name, value, least in (("--folds", args.folds, 2), ("--simulations", args.simulations, 1),
                               ("--top-k", args.top_k, 1), ("--seed", args.seed, 0)):
        if value < least:
            raise BadInput(f"{name}: expected an integer >= {least}, got {value}")
    if args.top_k > args.simulations:
        raise BadInput(f"--top-k ({args.top_k}) exceeds --simulations ({args.simulations})")
    if args.prior and not F.FIT_METHODS[args.method].uses_prior:
        raise BadInput("--" + F.NO_PRIOR)
    params = F.check_params(args.method, dict(parse_param(p) for p in args.param))
    runs = read_runs(args.mixtures, args.metrics, args.target, join=args.join, tolerance=args.tolerance)
    if args.folds > len(runs.y):
        raise BadInput(f"--folds: {args.folds} folds for {len(runs.y)} runs")
    test = None
    if args.test_mixtures:
        test = read_runs(args.test_mixtures, args.test_metrics, args.target, join=args.join,
                         tolerance=args.tolerance, domains=runs.domains, min_runs=1)
    prior = read_prior(args.prior, runs.domains) if args.prior else None

    # --- fit, score, propose ---------------------------------------------------------------------------------
    t0 = time.perf_counter()
    fitted = F.fit(runs.X, runs.y, args.method, domains=runs.domains, seed=args.seed, folds=args.folds, **params)
    test_pred = test_scores = None
    if test is not None:
        test_pred = fitted.predict(test.X)
        test_scores = F.scores(test.y, test_pred)
    t1 = time.perf_counter()
    kw = {"simulations": args.simulations, "top_k": args.top_k} if F.FIT_METHODS[args.method].uses_prior else {}
    alpha = F.propose(fitted, prior, seed=args.seed, **kw)
    predicted = float(fitted.predict(alpha)[0])
    t2 = time.perf_counter()

    doms = runs.domains
    info = {k: v for k, v in fitted.info.items() if k not in ("seconds", "cv_seconds")}
    result = {
        "method": args.method, "params": {**fitted.params, **kw}, "seed": args.seed, "target": runs.target,
        "weights": dict(zip(doms, alpha.tolist())),
        "predicted_loss": predicted,
        "prior": None if prior is None else dict(zip(doms, prior.tolist())),
        "fit": {"runs": len(runs.y), "domains": len(doms), "cv": fitted.cv,
                "train": F.scores(runs.y, fitted.predict(runs.X)), **info},
        "test": None if test is None else {"mixtures": test.mixtures, "metrics": test.metrics, **test_scores},
        "data": {"mixtures": runs.mixtures, "metrics": runs.metrics, "join": runs.join,
                 "sha256": {"mixtures": _sha256(runs.mixtures), "metrics": _sha256(runs.metrics)}},
        "cost": {"fit_s": t1 - t0, "propose_s": t2 - t1},  # fit_s: the fit and its cross-validation
        "plot": plot_path(out).name,
    }
    png = _plot_png(runs, fitted, test, test_pred, test_scores)

    # --- report and write ---------------------------------------------------------------------------------
    rho = lambda s: "–" if s["spearman"] is None else f"{s['spearman']:.4f}"  # noqa: E731
    what = f", {info['rounds']} boosting rounds" if "rounds" in info else (f", K = {info['K']}" if "K" in info else "")
    print(f"{args.method} on {len(runs.y)} runs x {len(doms)} domains, target {runs.target}{what}")
    print(f"  {str(fitted.cv['folds']) + '-fold CV':<10} Spearman {rho(fitted.cv)}  MAE {fitted.cv['mae']:.4g}")
    if test is not None:
        print(f"  {'held out':<10} Spearman {rho(test_scores)}  MAE {test_scores['mae']:.4g}  "
              f"({len(test.y)} runs, {test.mixtures})")
    top = sorted(result["weights"].items(), key=lambda kv: -kv[1])
    print(f"  proposed mixture (predicted loss {predicted:.4g}): "
          + ", ".join(f"{d} {w:.3f}" for d, w in top if w >= 0.005))
    write_atomic(plot_path(out), png)
    write_json(out, result)
    print(f"wrote {out} and {plot_path(out)}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("fit", help="a mixture from your own proxy runs: mixtures + metrics tables in, weights JSON out",
                       description=__doc__)
    p.add_argument("--mixtures", required=True, metavar="MIX.csv",
                   help="one row per proxy run: the run id and one column per domain (weights summing to 1)")
    p.add_argument("--metrics", required=True, metavar="LOSS.csv", help="one row per proxy run: the run id and metrics")
    p.add_argument("--target", required=True, metavar="COLUMN", help="the metrics column to minimise")
    p.add_argument("--join", default=None, metavar="COLUMN",
                   help="the run-id column of both tables (default: the first of index, run, run_id in both)")
    from tandem_ref.fit import FIT_METHODS

    p.add_argument("--method", default="regmix", choices=list(FIT_METHODS),
                   help="regmix (LightGBM, RegMix's settings; default), mixing-laws (Ye et al.'s law), "
                        "linear (RegMix's linear baseline)")
    p.add_argument("--prior", default=None, metavar="PRIOR.json",
                   help="regmix, linear: the mixture the simulations are drawn around, {domain: weight} "
                        "(default: uniform)")
    p.add_argument("--out", default="weights.json", help="the weights JSON to write (default weights.json)")
    p.add_argument("--test-mixtures", default=None, metavar="MIX.csv", help="a held-out mixtures table to score")
    p.add_argument("--test-metrics", default=None, metavar="LOSS.csv", help="its metrics table")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a method parameter (JSON value), e.g. --param implicit_domains=4; repeatable")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seeds the folds, the fit's initialisations and the "
                                                       "simulations (default 0)")
    p.add_argument("--tolerance", type=float, default=0.01,
                   help="how far a mixture's weights may sum from 1 (default 0.01)")
    p.add_argument("--simulations", type=int, default=100_000, help="regmix, linear: simulated mixtures (100000)")
    p.add_argument("--top-k", type=int, default=128, help="regmix, linear: simulations averaged (128)")
    p.set_defaults(func=run)
