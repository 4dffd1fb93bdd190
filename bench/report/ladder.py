"""The model-size ladder's figure and tables (bench.evidence.ladder computes them; this draws and lays
them out): TANDEM's effect against model size per setting, the paper's 160M point marked."""

from __future__ import annotations

import json
from pathlib import Path

from ..evidence import ladder
from ..results import write_atomic
from ..tabulate import markdown
from .figures import Figure
from .plotting import plt

# RegMix's published proxy runs (MIT; never copied into the project): read where the shared folder is,
# and the statistics computed from them kept beside the tables, so a clone without it prints the same
REGMIX = Path(__file__).resolve().parents[2].parent / "shared" / "research" / "external" / "regmix"
NAME = "ladder-effect"
CAPTION = "TANDEM's Stage-Two test loss against uniform's, by model size (paired over seeds, 95% interval)"


def draw(data, folder: Path) -> list[Figure]:
    pts = ladder.effect_points(data)
    if not pts:
        return []
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    for suite, marker in (("scale-abundant", "o"), ("scale-restricted", "s")):
        p = sorted((x for x in pts if x["suite"] == suite), key=lambda x: x["n_params"])
        if not p:
            continue
        xs = [x["n_params"] for x in p]
        err = [[x["rel"] - x["low"] for x in p], [x["high"] - x["rel"] for x in p]]
        ax.errorbar(xs, [x["rel"] for x in p], yerr=err,
                    marker=marker, capsize=3, label=f"{suite} ({ladder.LADDER[suite]}; {p[0]['profile']} profile)")
    claim = ladder.LM_CLAIMS["LM-2"]
    ax.scatter([ladder.PAPER_PARAMS], [100 * claim.paper], marker="*", s=120, color="k", zorder=3,
               label="the paper, restricted (160M, Table 3)")
    ax.axhline(0, color="grey", lw=0.8)
    ax.axhspan(-1, 1, color="grey", alpha=0.12, label="LM-1's equivalence margin (±1%)")
    ax.set_xscale("log")
    ax.set_xlabel("parameters")
    ax.set_ylabel("TANDEM − uniform, % of uniform's loss")
    ax.legend(loc="lower left")
    folder.mkdir(parents=True, exist_ok=True)
    png, pdf = folder / f"{NAME}.png", folder / f"{NAME}.pdf"
    fig.savefig(png, dpi=150)
    fig.savefig(pdf, metadata={"CreationDate": None})
    plt.close(fig)
    return [Figure(NAME, CAPTION, png, pdf, [])]


def regmix_rows(tables: Path) -> list[list[str]]:
    """RegMix's agreement rows: computed from its tables where they are, else the stored ones."""
    stored = tables / "regmix_agreement.json"
    if REGMIX.is_dir():
        rows = ladder.agreement_rows([], REGMIX)
        write_atomic(stored, (json.dumps(rows, indent=1, ensure_ascii=False) + "\n").encode())
        return rows
    return json.loads(stored.read_text()) if stored.exists() else []


def tables(data, tdir: Path) -> str:
    """tables/ladder.md (the README's scale block): per setting the effect by size, then the agreement."""
    rows = [r for sd in ladder.ladder_data(data, preferred=True) for r in ladder.ladder_table(sd)]
    if not rows:
        return ""
    agree = ladder.agreement_rows(data) + regmix_rows(tdir)
    text = (markdown(ladder.LADDER_HEADER, rows)
            + "\nTANDEM − uniform: paired over seeds, average Stage-Two test loss in nats; the verdict is the "
              "claim's at that size (LM-1: TANDEM within the equivalence margin; LM-2: TANDEM below uniform). "
              "Tokens are the same at every size (the repetition regime the claims are about).\n\n"
            + markdown(ladder.AGREEMENT_HEADER, agree)
            + "\nAgreement of the fixed mixtures' seed-mean test losses with the largest size's: Spearman ρ and "
              "decision accuracy (DataDecide's share of mixture pairs ordered alike), 95% percentile bootstrap "
              "over seeds (ours) or mixtures (RegMix, one run per mixture); the noise floor is the largest size "
              "against itself between disjoint halves of its seeds. RegMix's 1B runs trained 64 other mixtures, "
              "so no pair with 1B exists.\n")
    write_atomic(tdir / "ladder.md", text.encode())
    return text
