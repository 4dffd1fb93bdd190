"""DoReMi (Xie et al., NeurIPS 2023), as its reference code computes it.

sangmichaelxie/doremi, DoReMiTrainer.update_domain_weights (research/peer_rules.md section 1):
  reference w: trained once beforehand on the reference mixture (uniform), frozen   [Static]
  lambda_i = mean over domain i's tokens of max(l_proxy - l_ref, 0)                 [ClippedExcess]
  alpha'   = softmax(log alpha + eta lambda)                                        [Mirror]
  alpha    = (1 - c) alpha' + c/k,  c = 1e-3 (the run script's value, the paper's c)
  returned: the running average of alpha_0, alpha_1, ..., alpha_T (the code includes alpha_0)
One update per proxy step (E = 1); the proxy trains on the alpha-weighted loss. The reference
sees no validation data, so the output does not depend on L_val (research/theory.md 7 (i)).
"""

from ..loop import LoopSpec
from ..schedules import Static
from ..signals import ClippedExcess
from ..updates import Mirror
from .base import OnlineMethod


class DoReMi(OnlineMethod):
    name = "doremi"
    summary = "static reference on a fixed mixture, clipped excess loss, exponentiated step, averaged weights"
    defaults = {"reference_mixture": "uniform", "reference_steps": None, "eta": 1.0, "smoothing": 1e-3,
                "clip": True, "output": "average", "lr": None}

    def check(self):
        self._positive("eta", "lr")

    def spec(self, problem):
        p = self.params
        return LoopSpec(schedule=Static(p["reference_mixture"], p["reference_steps"]),
                        signal=ClippedExcess(clip=p["clip"]), update=Mirror(p["eta"], p["smoothing"]),
                        proxy_lr=p["lr"], average_includes_initial=True, output=p["output"])
