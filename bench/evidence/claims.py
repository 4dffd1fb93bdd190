"""The claims decided on the small LM, one typed record each (bench.evidence.verdicts decides them).

A claim names the suite whose reported study (the study named like the suite) decides it; a test
(tests/lm/test_stats.py) fails when a claim names a suite or study that does not exist, so renaming a
suite cannot silently drop its claim from the report."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from tandem_ref.names import Registry

from ..suites import suite_of_folder as base_name  # a results folder's suite: lm-restricted@lm -> lm-restricted


@dataclass(frozen=True)
class LMClaim:
    """One claim decided on the small LM: the suite whose reported study (the study named like the
    suite) decides it, the loss it compares (``column``: the average test loss, or the fine-tuned
    target's), the method claimed better (``subject``; None: "uniform is not beaten" by any method)
    and what it is compared with, and the paper's effect as a relative change of that loss
    (research/tandem_paper.md section 5), where the paper gives one."""

    id: str
    text: str
    suite: str
    column: Literal["avg", "target"] = "avg"
    subject: str | None = "tandem"
    comparators: tuple[str, ...] = ()
    paper: float | None = None
    paper_text: str = ""
    # the shape of the paper's learned mixture where it reports one (the report sets ours beside it)
    paper_shape: str = ""
    # where the deciding design changed after its results were seen: the first declared design (its
    # reported seeds, the commit that declared it, the [report] keys it had not declared yet), whose
    # verdict the report prints beside the final one on the same stored runs (the first seeds)
    first_design: dict | None = None


# Effects in nats, tokenizer-free: Table 3 restricted, TANDEM 28.07 vs uniform 31.53 perplexity; Table 5
# SFT test loss 0.208 vs 0.231. The paper gives no number for the multi-stage setting.
LM_CLAIMS = Registry("LM claim", {c.id: c for c in (
    LMClaim("LM-1", "uniform is not beaten with abundant data (Prop. 1)", "lm-abundant", subject=None,
            paper_text="Table 3 (upper): TANDEM on par with uniform"),
    LMClaim("LM-2", "TANDEM beats uniform and natural with restricted data", "lm-restricted",
            comparators=("uniform", "natural"), paper=math.log(28.07) / math.log(31.53) - 1,
            paper_text="Table 3: ppl 28.07 vs 31.53",
            paper_shape="ArXiv 3.4% → 8.9% against 14.3% uniform (between natural and uniform)"),
    LMClaim("LM-3", "stage-aware TANDEM beats uniform and stage-unaware TANDEM on the fine-tuned target",
            "lm-multistage", column="target", comparators=("uniform", "tandem-unaware"),
            paper_text="no number reported",
            # the first deciding run (results at 55b55f3) had 6 seeds and no declared effect of interest;
            # its TANDEM-vs-uniform row was inconclusive (MDE 1.8%), and 2e16226 then raised the seeds to 10
            # and declared the 3.4% effect
            first_design={"seeds": 6, "declared": "83ebde0", "undeclared": ("effect",)}),
    LMClaim("LM-4", "TANDEM beats uniform on the average task loss", "lm-sft", comparators=("uniform",),
            paper=0.208 / 0.231 - 1, paper_text="Table 5: test loss 0.208 vs 0.231"),
)})
# LM-5 is read off the Stage-Two loss curves of these suites' reported studies
LM5 = ("LM-5", "TANDEM's mixture reaches uniform's final test loss in fewer steps")
LM5_SUITES = ("lm-restricted", "lm-sft")


def claim_of(suite: str) -> LMClaim | None:
    """The LM claim a suite's reported study decides (by its base name), or None."""
    return next((c for c in LM_CLAIMS.values() if c.suite == base_name(suite)), None)
