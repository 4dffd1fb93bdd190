"""Skill-It (Chen et al., "Skill-it! A Data-Driven Skills Framework for Understanding and Training Language
Models", NeurIPS 2023): online multiplicative weights over a skills graph, as HazyResearch/skill-it
(trainer/mw_trainer.py, MWTrainer.train) and Aioli's re-implementation (HazyResearch/aioli
trainer/skillit_trainer.py) compute it.

Skills graph A (k x T): A_ij = how much training on skill i lowers eval loss j. The repositories ship
graphs, not the code that learns them (research/anchors.md); Aioli's scripts learn them from one full run
per skill on its one-hot mixture (scripts/*/skillit/graph_learning.sh). Here, before the first update:
      A_ij = (L_j(theta_0) - L_j(theta_i)) / L_j(theta_0)   theta_i = `graph_steps` steps on e_i from theta_0
the paper's brute-force estimate (relative loss decrease, Skill-It Section 2.3 and Appendix, recalled);
`graph="absolute"` drops the division (also used for an eval loss that starts at 0, where it is
undefined). The probe runs are charged (probes.probe_run).

Online data selection (paper Algorithm 1), every `update_steps` proxy steps:
      L_tau = eval losses at the start of round tau                                  [SkillGraphSignal]
      p_t  ~ exp(eta sum_j A_ij ell_j)  from a uniform base (weights_init = 1)           [Gibbs]
      ell  = sum of the last `window` L_tau (target="domains", the pretraining setting), or their mean
             (target="val": the evaluation skill is the validation loss, mw_trainer's target_mask branch)
      before any loss is seen, ell = 1 (p_0 ~ exp(eta A 1), the code's loss_init)
lagged=True (the code): the update after round r uses the losses measured at the start of rounds
r - window + 1 .. r, so the loss measured now enters from the next update on; lagged=False uses it at once
(the paper's algorithm box). Defaults are Aioli's Skill-It scripts: eta 0.2, window 3, update_steps 500.
"""

import numpy as np

from ..loop import LoopSpec
from ..probes import TARGETS, eval_losses, initial_losses, probe_run
from ..schedules import NoReference
from ..signals import Signal
from ..updates import Gibbs
from .base import OnlineMethod


def skills_graph(problem, seed, steps, target, lr=None, relative=True) -> np.ndarray:
    """A (k x T) from one probe run per skill on its one-hot mixture, from the initial proxy."""
    k = len(problem.domains)
    L0 = initial_losses(problem, seed, target)
    drops = np.stack([L0 - probe_run(problem, np.eye(k)[i], steps, seed, lr=lr, target=target) for i in range(k)])
    if not relative:
        return drops
    # relative to the initial loss where it is positive (cross-entropy always is); absolute where a
    # controlled family's loss starts at 0 and the ratio is undefined
    scale = np.where(L0 > 0, L0, 1.0)
    return drops / scale[None, :]


class SkillsGraph(NoReference):
    """No reference model; before the first update, the skills graph is learned from probe runs."""

    key = "skills-graph"
    summary = "Skill-It: skills graph from one-hot probe runs before training, alpha every E steps"

    def __init__(self, episode, graph_steps, target, relative, lr):
        super().__init__(episode)
        self.graph_steps, self.target, self.relative, self.lr = graph_steps, target, relative, lr

    def start(self, ctx, budget):
        steps = self.graph_steps or budget  # Aioli's graph runs are as long as the main run
        A = skills_graph(ctx.problem, ctx.seed, steps, self.target, self.lr, self.relative)
        ctx.memory["graph"], ctx.memory["losses"] = A, np.zeros((0, A.shape[1]))


class SkillGraphSignal(Signal):
    uses_reference = False

    def __init__(self, target, window, lagged):
        self.target, self.window, self.lagged = target, window, lagged

    def __call__(self, ctx):
        p, mem = ctx.problem, ctx.memory
        A = mem["graph"]
        L = eval_losses(p, ctx.proxy, self.target, ctx.rng)
        hist = np.concatenate([mem["losses"], L[None, :]])[-(self.window + 1):]
        mem["losses"] = hist
        seen = hist[:-1] if self.lagged else hist
        seen = seen[-self.window:]
        if len(seen) == 0:
            ell = np.ones(A.shape[1])
        else:
            ell = seen.sum(axis=0) if self.target == "domains" else seen.mean(axis=0)
        return A @ ell, {}


class SkillIt(OnlineMethod):
    name = "skill-it"
    summary = "skills graph from one-hot probe runs, online multiplicative weights over graph-weighted losses"
    defaults = {"eta": 0.2, "window": 3, "update_steps": 500, "graph_steps": None, "graph": "relative",
                "target": "val", "lagged": True, "lr": None, "output": "last"}

    def check(self):
        self._positive("eta", "lr")
        self._integer("window", "update_steps")
        self._integer("graph_steps", optional=True)
        self._choice("graph", ("relative", "absolute"))
        self._choice("target", TARGETS)

    def spec(self, problem):
        p = self.params
        return LoopSpec(schedule=SkillsGraph(p["update_steps"], p["graph_steps"], p["target"], p["graph"] == "relative",
                                             p["lr"]),
                        signal=SkillGraphSignal(p["target"], p["window"], p["lagged"]),
                        update=Gibbs(p["eta"]), proxy_lr=p["lr"], output=p["output"])
