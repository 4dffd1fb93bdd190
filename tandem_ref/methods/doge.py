"""DoGE (Fan, Pagliardini, Jaggi, ICML 2024), as its paper and code compute it.

Olivia-fsm/DoGE, DoGETrainer.update_domain_weights (research/peer_rules.md section 2):
  S_i   = <g_i, g_val>   with each gradient norm-clipped to max_grad_norm            [GradAlignment]
  W_i   = eta_t S_i / (mean_l ||g_l|| + 1e-6), clipped to [eta_t dw_min, eta_t dw_max]
  alpha = softmax(log alpha + W / mu), then (1 - eps) alpha + eps/k                   [Mirror, eta = 1/mu]
  proxy : one step on sum_i alpha_i g_i with the new weights (E = 1)
  returned: the average of alpha_1..alpha_T (alpha_0 not included)
eta_t is the proxy's learning rate *as scheduled at step t* (its code reads
``lr_scheduler.get_last_lr()``; ``tandem_ref.problem.current_lr``): during the LM's warm-up the
first steps use the warmed-up rate, not the base rate. Defaults are config/doge.json's: mu = 0.01, dw_max = 5,
max_grad_norm = 5, eps = 0. ``dw_min=None, dw_max=None, max_grad_norm=None, normalize=False``
give the paper's plain rule W_i = eta_t <g_i, g_val>.

``signal="lookahead"`` is the form of the TANDEM paper's Table 1 instead: the reference is the
proxy after one step on L_val [Lookahead], the score -(L_i(w) - L_i(u)) / eta_t, which equals
<grad L_i, grad L_val> to first order in eta_t; no normalisation or clipping.
"""

from ..errors import BadInput
from ..loop import LoopSpec
from ..schedules import Lookahead, NoReference
from ..signals import GradAlignment, TwinGap
from ..updates import Mirror
from .base import OnlineMethod


class DoGE(OnlineMethod):
    name = "doge"
    summary = "gradient alignment with the validation gradient, multiplicative step, averaged weights"
    nullable = ("dw_min", "dw_max", "max_grad_norm")  # None: that part of the rule off (the paper's plain rule)
    version = "2"  # 2: W scaled by the scheduled rate eta_t, not the base rate
    defaults = {"mu": 0.01, "lr": None, "dw_min": 0.0, "dw_max": 5.0, "max_grad_norm": 5.0,
                "normalize": True, "smoothing": 0.0, "output": "average", "signal": "alignment"}

    def check(self):
        self._positive("mu", "lr")
        if self.params["signal"] not in ("alignment", "lookahead"):
            raise BadInput(f"method 'doge': parameter 'signal' must be 'alignment' or 'lookahead', "
                           f"got {self.params['signal']!r}")

    def spec(self, problem):
        p = self.params
        lr = problem.lr if p["lr"] is None else p["lr"]
        if p["signal"] == "lookahead":
            schedule, signal = Lookahead(1), TwinGap(gamma=1.0 / lr)
        else:
            schedule = NoReference(1)  # the exact alignment needs no materialised look-ahead reference
            signal = GradAlignment(p["lr"], p["normalize"], p["dw_min"], p["dw_max"], p["max_grad_norm"])
        return LoopSpec(schedule=schedule, signal=signal, update=Mirror(1.0 / p["mu"], p["smoothing"]),
                        proxy_lr=lr, output=p["output"])
