"""The paper's Stage Two: train a fresh model on a mixture and score it (the "lm-target" scorer).

The target run draws each batch's domains from the mixture (systematically by default, bench.lm.batches),
decays the learning rate over the run, optionally fine-tunes on one domain afterwards (the
multi-stage setting), and reports test, validation and training losses: test is what the claims
read; validation is what tuning and the best-of-grid choice read (never test); training gives the
train-test gap of the regime.
"""

from __future__ import annotations

import time

import numpy as np

from tandem_ref.errors import BadInput
from tandem_ref.simplex import validate_mixture

from .problem import LMProblem
from .trainer import TrainConfig


def target_run(problem: LMProblem, alpha, steps: int, seed: int, finetune: tuple[str, int] | None = None,
               split: str = "test", curve_every: int = 0, curve_seqs: int = 64) -> dict:
    """Train a fresh model on the mixture (alpha-sampled batches, cosine decay over the run)
    and report per-domain and average loss and perplexity on ``split`` (test), plus the same on
    the validation split (``val``: what tuning and the best-of-grid choice read, never test) and
    on the training split (``train``: the train-test gap of the regime). With
    ``finetune=(domain, k)``, then fine-tune k steps on that domain alone (the multi-stage
    setting) before evaluating. ``curve_every`` > 0 records the average test loss every that
    many steps on ``curve_seqs`` sequences per domain (``curve``: step -> loss; the
    faster-convergence claim reads it)."""
    alpha = validate_mixture(alpha, problem.domains, name="mixture")
    t0 = time.perf_counter()
    saved_cost = problem.cost.as_dict()
    target = LMProblem(problem.data, domains=problem.domains, model=problem.trainer.config,
                       batch_size=problem.batch_size, mixing=problem.stage.sampling, eval_batch=problem.eval_batch,
                       val_weights=dict(zip(problem.val_domains, problem.val_weights)),
                       train=_with(problem.trainer.train, decay_steps=steps), dist=problem.dist,
                       eval_seqs=problem.eval_seqs, base=problem.base)
    state, curve = target.init_state(seed), {}
    chunk = int(curve_every) if curve_every and finetune is None else steps
    while state.step < steps:
        state = target.step(state, alpha, min(chunk, steps - state.step))
        if curve_every and finetune is None:
            curve[int(state.step)] = target.evaluate(state, split, domains=problem.domains,
                                                     seqs=curve_seqs)["avg_loss"]
    train_flops = target.cost.flops
    reps = target.repetitions(state)
    if finetune is not None:
        dom, k = finetune
        ft = LMProblem(problem.data, domains=[dom], model=problem.trainer.config,
                       batch_size=problem.batch_size, mixing=problem.stage.sampling, val_weights=dom,
                       train=_with(problem.trainer.train, decay_steps=k, warmup=0), dist=problem.dist,
                       eval_seqs=problem.eval_seqs)
        ft_state = ft.init_state(seed)
        ft_state.params = state.params  # fresh optimizer, pre-trained weights
        state = ft.step(ft_state, [1.0], k)
    out = target.evaluate(state, split)
    out["val"] = target.evaluate(state, "val")
    out["train"] = target.evaluate(state, "train", domains=problem.domains)
    out.update(repetitions=reps, steps=steps, cost=target.cost.as_dict(), wall_s=time.perf_counter() - t0,
               tokens_per_s=target.cost.tokens / max(time.perf_counter() - t0, 1e-9), curve=curve,
               flops_per_step=train_flops / max(steps, 1))
    problem.cost.load(saved_cost)
    return out


def stage_two(problem: LMProblem, alpha) -> dict:
    """The target run of the problem's setting (``problem.stage``, a ``StageTwo``)."""
    s = problem.stage
    ft = (s.finetune_domain, s.finetune_steps) if s.finetune_steps else None
    return target_run(problem, alpha, s.steps, s.seed, finetune=ft, curve_every=s.curve_every)


def _with(train: TrainConfig, **changes) -> TrainConfig:
    return TrainConfig(**{**train.as_dict(), **changes})


def stage_two_scorer(problem: LMProblem, cache=None):
    """The harness scorer "lm-target": Stage Two on a mixture (a fresh model trained
    ``stage_two_steps`` on it, then fine-tuned ``finetune_steps`` on the target if set), scored by
    per-domain and average test loss, perplexity and (supervised tasks) accuracy. It scores only
    the mixture a method returns (``final_only``): a target run per logged row would cost more
    than the method."""
    if not problem.stage.steps:
        raise BadInput("scorer 'lm-target': the problem needs stage_two_steps > 0")
    seen = {}

    def score(alpha) -> dict:
        key = np.asarray(alpha, dtype=np.float64).tobytes()
        if key not in seen:
            r = stage_two(problem, alpha)
            out = {"avg_loss": r["avg_loss"], "avg_ppl": r["avg_ppl"], "avg_se": r["avg_se"],
                   "val_avg_loss": r["val"]["avg_loss"], "train_avg_loss": r["train"]["avg_loss"],
                   "stage_two.wall_s": r["wall_s"], "stage_two.tokens_per_s": r["tokens_per_s"],
                   "stage_two.flops": r["cost"]["flops"], "stage_two.flops_per_step": r["flops_per_step"],
                   "stage_two.steps": r["steps"],
                   # the scored model's size (Stage Two trains the problem's model afresh), for
                   # comparisons across model sizes
                   "n_params": problem.trainer.n_params}
            for k in ("loss", "ppl", "acc", "se", "repetitions"):
                out.update({f"{k}.{d}": v for d, v in r.get(k, {}).items()})
            for split in ("val", "train"):
                out.update({f"{split}_loss.{d}": v for d, v in r[split]["loss"].items()})
                if "avg_acc" in r[split]:
                    out[f"{split}_avg_acc"] = r[split]["avg_acc"]
            out.update({f"curve.{step:06d}": v for step, v in r["curve"].items()})
            if "avg_acc" in r:
                out["avg_acc"] = r["avg_acc"]
            seen[key] = out
        return dict(seen[key])

    score.final_only = True
    return score
