"""Every GPU measurement in one run of at most 8 minutes (``bench/gpu/check.sh``), written to OUT:

1. training throughput and model FLOPs utilisation at 85M and 160M parameters, bf16 autocast,
   sequence 1024, ``torch.compile``, attention by ``scaled_dot_product_attention`` (flash on an H200),
   against the H200's dense bf16 peak (989 TFLOP/s; target >= 40%);
2. one cell of the ``gpu`` profile's smallest LM setting (lm-restricted, uniform, seed 0: the 20M
   model's Stage Two), as the harness runs it, with its wall time and test loss;
3. a subset of the ``gpu`` profile's model-size ladder (scale-restricted: uniform, natural and the 6
   fixed mixtures of its grid at 20M, 85M and 151M, seed 0, as the runner computes them) and the
   rank agreement of each smaller size with 151M (Spearman rho, decision accuracy; one seed, so no
   interval: the full ``gpu`` profile has the seeds). Its cells are stored under OUT/ladder-cells.

Writes OUT/check.json and OUT/check.md. ``--small`` runs the same code on the CPU at toy sizes (the
micro model, a few steps, the cell's problem shrunk), so the tests keep it from rotting.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch

from bench.lm.throughput import H200_BF16_TFLOPS, measure

MFU_TARGET = 0.40
FULL = {"sizes": ("85m", "160m"), "seq_len": 1024, "batch_size": 16, "steps": 30, "warmup": 5,
        "device": "cuda", "dtype": "bf16", "compile": True, "peak": H200_BF16_TFLOPS}
SMALL = {"sizes": ("micro",), "seq_len": 32, "batch_size": 2, "steps": 2, "warmup": 1,
         "device": "cpu", "dtype": "float32", "compile": False, "peak": 0.1}
CELL_SMALL = {"problem.device": "cpu", "problem.dtype": "float32", "problem.model": "micro", "problem.seq_len": 32,
              "problem.batch_size": 4, "problem.stage_two_steps": 4, "problem.eval_seqs": 2, "problem.lr": 1e-3}


def throughput(cfg: dict) -> list[dict]:
    rows = []
    for size in cfg["sizes"]:
        r = measure(size, steps=cfg["steps"], warmup=cfg["warmup"], seq_len=cfg["seq_len"],
                    batch_size=cfg["batch_size"], device=cfg["device"], dtype=cfg["dtype"], compile=cfg["compile"],
                    peak_tflops=cfg["peak"])
        r["flash_sdp"] = bool(torch.backends.cuda.flash_sdp_enabled()) if cfg["device"] == "cuda" else None
        rows.append(r)
        print(f"{size}: {r['tokens_per_s']:,.0f} tokens/s, MFU {r['mfu']:.1%}", flush=True)
    return rows


def _shrunk(cell):
    """The cell at the CPU smoke run's toy size (``--small``), its problem parameters a new dict."""
    return dataclasses.replace(cell, problem_params={**cell.problem_params,
                                                     **{k.split(".", 1)[1]: v for k, v in CELL_SMALL.items()}})


def _computed(cell, cells_dir: Path) -> tuple[dict, dict]:
    """The cell computed as the runner does (its record stored under ``cells_dir``): (record, final row)."""
    from bench.cells import key_of
    from bench.compute import Planned, compute, config_of

    cfg = config_of(cell)
    cells_dir.mkdir(parents=True, exist_ok=True)
    rec = compute(Planned(key_of(cfg), cell, cfg), cells_dir)
    return rec, (rec["rows"][-1] if rec.get("rows") else {})


def lm_cell(small: bool, out: Path) -> dict:
    """The first uniform cell (seed 0) of lm-restricted's gpu profile, computed as the runner does."""
    from bench.suites import expand, load

    cell = next(c for c in expand(load("lm-restricted"), "gpu") if c.method == "uniform" and c.seed == 0)
    cell = _shrunk(cell) if small else cell
    t0 = time.perf_counter()
    rec, final = _computed(cell, out / "cells")
    return {"suite": "lm-restricted", "profile": "gpu", "method": "uniform", "seed": 0, "status": rec["status"],
            "reason": rec.get("reason"), "wall_s": time.perf_counter() - t0, "model": cell.problem_params.get("model"),
            "avg_loss": final.get("avg_loss"), "stage_two_tokens_per_s": final.get("stage_two.tokens_per_s")}


LADDER_SIZES = ("restricted-20m", "restricted-85m", "restricted-160m")


def ladder(small: bool, out: Path) -> dict:
    """The ladder subset (module text, item 3): per size, each fixed mixture's test loss, and the
    agreement of every smaller size's order of the mixtures with the largest's."""
    from bench.evidence import agreement
    from bench.suites import expand, load

    suite = load("scale-restricted")
    grid = [c for c in expand(suite, "gpu") if c.seed == 0 and c.labels["study"] == "grid"
            and c.labels["problem_label"] in LADDER_SIZES]
    # uniform and natural as the ladder study runs them (its budget: the same keys as the full profile's)
    main = next(s for s in suite.studies if s.name == "scale-restricted").at("gpu")
    cells = [dataclasses.replace(c, method=m, method_params={}, budget=main.budget,
                                 labels={**c.labels, "study": main.name, "method_label": m, "grid": {}})
             for c in grid if c.method_params["weights"] == grid[0].method_params["weights"]
             for m in ("uniform", "natural")] + grid
    if small:  # two sizes of three mixtures, shrunk to the CPU's micro model
        cells = [c for c in cells if c.labels["problem_label"] != LADDER_SIZES[1]]
        cells = [_shrunk(c) for c in cells if c.method != "fixed" or c.method_params["weights"][0] == 0.6]
    losses, t0 = {}, time.perf_counter()
    for c in cells:
        rec, final = _computed(c, out / "ladder-cells")
        name = c.labels["method_label"] if c.method != "fixed" else json.dumps(c.method_params["weights"])
        losses.setdefault(c.labels["problem_label"], {})[name] = final.get("avg_loss", float("nan"))
        print(f"{c.labels['problem_label']} {name}: {rec['status']}, test loss {final.get('avg_loss')}", flush=True)
    sizes = [p for p in LADDER_SIZES if p in losses]
    top = losses[sizes[-1]]
    names = sorted(top)
    rows = []
    for p in sizes[:-1]:
        a, b = [losses[p].get(n, float("nan")) for n in names], [top[n] for n in names]
        rows.append({"size": p, "target": sizes[-1], "mixtures": len(names), "spearman": agreement.spearman(a, b),
                     "decision_accuracy": agreement.decision_accuracy(a, b)})
    return {"suite": "scale-restricted", "profile": "gpu", "seed": 0, "losses": losses, "agreement": rows,
            "wall_s": time.perf_counter() - t0}


def markdown(res: dict) -> str:
    lines = [f"# GPU checks ({res['machine']['gpu'] or 'CPU smoke run'}, torch {res['machine']['torch']})", "",
             f"Peak: {res['peak_tflops']:g} TFLOP/s; MFU target {MFU_TARGET:.0%} (6N FLOPs per token).", "",
             "| model | params | seq | batch | dtype | compile | tokens/s | MFU | verdict |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in res["throughput"]:
        ok = "meets" if r["mfu"] >= MFU_TARGET else "misses"
        lines.append(f"| {r['size']} | {r['params'] / 1e6:.1f}M | {r['seq_len']} | {r['batch_size']} | {r['dtype']} | "
                     f"{r['compile']} | {r['tokens_per_s']:,.0f} | {r['mfu']:.1%} | {ok} target |")
    c = res["lm_cell"]
    lines += ["", f"LM cell ({c['suite']}, {c['profile']} profile, {c['method']}, seed {c['seed']}, "
              f"model {c['model']}): "
              f"{c['status']} in {c['wall_s']:.0f} s, test loss {c['avg_loss']}, Stage Two "
              f"{c['stage_two_tokens_per_s']} tokens/s.", ""]
    lad = res.get("ladder")
    if lad:
        lines += [f"Model-size ladder subset ({lad['suite']}, {lad['profile']} profile, seed {lad['seed']}, "
                  f"{lad['wall_s']:.0f} s): agreement of each size's order of the fixed mixtures with the largest's.",
                  "", "| size | target | mixtures | Spearman ρ | decision accuracy |", "|---|---|---|---|---|"]
        lines += [f"| {r['size']} | {r['target']} | {r['mixtures']} | {r['spearman']:.2f} | "
                  f"{r['decision_accuracy']:.2f} |" for r in lad["agreement"]]
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.gpu.check", description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="results/gpu")
    ap.add_argument("--small", action="store_true", help="the CPU smoke run at toy sizes (tests)")
    a = ap.parse_args(argv)
    cfg = SMALL if a.small else FULL
    if not a.small and not torch.cuda.is_available():
        print("bench.gpu.check: no CUDA device (use --small for the CPU smoke run)")
        return 2
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    res = {"machine": {"torch": torch.__version__, "gpu": torch.cuda.get_device_name() if torch.cuda.is_available()
                       and not a.small else None}, "peak_tflops": cfg["peak"], "throughput": throughput(cfg)}
    res["lm_cell"] = lm_cell(a.small, out)
    res["ladder"] = ladder(a.small, out)
    (out / "check.json").write_text(json.dumps(res, indent=1, default=str))
    (out / "check.md").write_text(markdown(res))
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
