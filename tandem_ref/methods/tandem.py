"""TANDEM (Wang, Xiang et al., NeurIPS 2025): bi-level data mixing with twin networks.

Reconstructed Algorithm 1 (research/tandem_paper.md section 2):
  for each episode t (every E proxy steps):
      w_0 <- u_0 := the current proxy                            synchronisation        [TwinReset]
      K probe steps:  u <- u - eta_u grad L_train(alpha, u)
                      w <- w - eta_w (grad L_val(w) + gamma grad L_train(alpha, w))
      Delta_m = L_train^m(w_K) - L_train^m(u_K)                  twin loss gap          [TwinGap]
      alpha <- Pi_A(alpha - eta_alpha gamma Delta)               projected step         [Projected]
      the proxy trains on the new alpha for the rest of the episode
Delta is the alpha-gradient of the penalty H_gamma = L_val(w) + gamma (L_train(alpha, w) -
min_u L_train(alpha, u)) (Eq. 2) by Danskin's theorem.

Choices where the paper is ambiguous (research/tandem_paper.md section 7), all parameters:
  update="projected": the only source that writes the step (the secondary reading of Eq. 3-5)
      writes the Euclidean projection Pi_A; "mirror" is the exponentiated step of theory.md.
  output="last": the paper's learned mixtures (Fig. 5) match the end of the trajectories (Fig. 3),
      not their full average; "average" is available.
  eta_w=None means eta_w = eta_u / gamma, so the reference's step is eta_u on L_train + L_val/gamma:
      the twin gap then has no learning-progress drift (theory.md 0.1); at gamma = 1 (the paper's
      value) both readings coincide.
  episode=5, probe=4: the paper's Fig. 7 inset shows a re-sync every 5 steps with the distance
      growing for 4; probe_in_episode=True counts the K probe steps inside E (Fig. 1b).
  reference_data="train" gives the reference no extra data: identical twins, a negative control.
  schedule: "twin-reset" (the method), or an ablation: "persistent" (never re-synced, Fig. 7),
      "stale" (re-synced every `period` updates), "ema" (EMA of the proxy, `tau`).
"""

import inspect

from ..errors import BadInput
from ..loop import LoopSpec
from ..schedules import SCHEDULES
from ..signals import TwinGap
from ..updates import make_update
from .base import OnlineMethod


def tandem_schedules() -> list[str]:
    """The schedules TANDEM runs with: its own and its ablations (``tandem = True`` in the registry)."""
    return [k for k in SCHEDULES if SCHEDULES.load(k).tandem]


class Tandem(OnlineMethod):
    name = "tandem"
    summary = "twin networks re-synced every E steps, K-step probe, twin loss gap, projected step"
    defaults = {"episode": 5, "probe": 4, "gamma": 1.0, "eta_u": None, "eta_w": None, "eta_alpha": 0.05,
                "update": "projected", "smoothing": 0.0, "output": "last", "probe_in_episode": True,
                "reference_data": "train+val", "signal_ema": None, "schedule": "twin-reset",
                "period": 4, "tau": 0.1}

    def check(self):
        self._positive("gamma", "eta_u", "eta_w", "eta_alpha")
        p = self.params
        if p["schedule"] not in tandem_schedules():
            raise BadInput(f"method 'tandem': parameter 'schedule' must be one of {', '.join(tandem_schedules())}, "
                           f"got {p['schedule']!r}")
        if p["reference_data"] not in ("train+val", "train"):
            raise BadInput(f"method 'tandem': parameter 'reference_data' must be 'train+val' or 'train', "
                           f"got {p['reference_data']!r}")

    def schedule(self):
        """The registered schedule, built from the method's parameters of the same names (episode, probe,
        period, tau)."""
        cls = SCHEDULES.load(self.params["schedule"])
        return cls(**{k: self.params[k] for k in inspect.signature(cls).parameters})

    def spec(self, problem):
        p = self.params
        gamma = p["gamma"]
        # paper: w <- w - eta_w (grad L_val + gamma grad L_train) = w - (eta_w gamma)(grad L_train + grad L_val / gamma)
        ref_lr = None if p["eta_w"] is None else p["eta_w"] * gamma
        if ref_lr is None:
            ref_lr = p["eta_u"]  # eta_w = eta_u / gamma, without rounding (identical twins stay identical)
        return LoopSpec(schedule=self.schedule(), signal=TwinGap(gamma),
                        update=make_update(p["update"], p["eta_alpha"], p["smoothing"]),
                        proxy_lr=p["eta_u"], ref_lr=ref_lr,
                        ref_val_weight=(1.0 / gamma) if p["reference_data"] == "train+val" else 0.0,
                        probe_in_episode=p["probe_in_episode"], signal_ema=p["signal_ema"],
                        output=p["output"])
