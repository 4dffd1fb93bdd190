"""The small language model as a ``tandem_ref`` Problem: states, training steps, signals, evaluation.

What each step reads is bench.lm.batches (a function of seed, step and data position, so methods
and twins are paired); how a suite's settings become a problem is bench.lm.build; the Stage-Two
target run that scores a mixture is bench.lm.target. The loop's ``rng`` arguments are accepted and
ignored: batches never depend on the random numbers a method drew.

Signals are taken on evaluation rows (``eval_batch`` training sequences per domain drawn from seed
and step): the twin gap and DoReMi's excess loss (clipped per token, as DoReMi's code does) compare
the two states token by token on the same sequences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from tandem_ref.errors import BadInput
from tandem_ref.problem import Cost, DomainGrads, PairedLosses, fingerprint_of
from tandem_ref.simplex import validate_mixture

from . import alignment
from .batches import MIXINGS, Batches, take
from .dist import LOCAL, Dist
from .model import config as model_config
from .tokens import TokenData
from .trainer import LMState, TrainConfig, Trainer

BATCHED_FROM = 10  # DoGE's per-domain gradients in one vectorised call from this many domains on (see domain_grads)


@dataclass(frozen=True)
class StageTwo:
    """The setting's target run (the paper's Stage Two, bench.lm.target): ``steps`` on the mixture,
    then ``finetune_steps`` on ``finetune_domain`` (the multi-stage setting), a loss curve every
    ``curve_every`` steps; domains drawn by ``sampling`` ("systematic" or "sample", bench.lm.batches);
    ``seed``: the target run's seed, pairing it across methods."""

    steps: int = 0
    finetune_steps: int = 0
    finetune_domain: str | None = None
    curve_every: int = 0
    sampling: str = "systematic"
    seed: int = 0


@dataclass(frozen=True)
class Pretrained:
    """A pre-trained base model every state starts from (with a fresh optimizer): ``params(seed,
    problem)`` gives its parameters for the problem's model and training settings; ``id`` names it in
    the problem's fingerprint."""

    params: Callable[[int, "LMProblem"], list]
    id: str


class LMProblem:
    def __init__(self, data: TokenData, *, domains=None, model="small", batch_size: int = 16,
                 mixing: str = "reweight", eval_batch: int = 4, val_batch: int | None = None,
                 val_weights=None, train: TrainConfig = TrainConfig(), dist: Dist = LOCAL,
                 eval_seqs: int = 32, stage: StageTwo = StageTwo(), base: Pretrained | None = None):
        self.data = data
        self.domains = tuple(data.domains if domains is None else domains)
        for d in self.domains:
            if d not in data.domains:
                raise BadInput(f"domains: {d!r} is not in the data (domains: {', '.join(data.domains)})")
        if mixing not in MIXINGS:
            raise BadInput(f"mixing: expected one of {', '.join(MIXINGS)}, got {mixing!r}")
        if batch_size < 1 or eval_batch < 1:
            raise BadInput("batch_size and eval_batch must be positive")
        self.mixing, self.batch_size, self.eval_batch = mixing, int(batch_size), int(eval_batch)
        m = len(self.domains)
        self.val_batch = int(val_batch) if val_batch is not None else max(1, self.batch_size // m)
        # L_val = sum_j v_j L_j^val over any domains of the data (a fine-tuning target may lie
        # outside the mixture); the paper's default is the mean over the mixture's domains.
        if val_weights is None:
            val_weights = {d: 1.0 / m for d in self.domains}
        elif isinstance(val_weights, str):
            val_weights = {val_weights: 1.0}
        self.val_domains = tuple(val_weights)
        self.val_weights = validate_mixture(val_weights, self.val_domains, name="val_weights")
        for d in self.val_domains:
            if d not in data.domains:
                raise BadInput(f"val_weights: {d!r} is not in the data (domains: {', '.join(data.domains)})")
        self.sizes = np.array([data[d]["train"].n_tokens for d in self.domains], dtype=np.float64)
        self.batches = Batches(data, self.domains, self.mixing, self.batch_size, self.eval_batch, self.val_batch,
                               self.val_domains, self.val_weights)
        self.trainer = Trainer(model_config(model, data.seq_len), train, dist)
        self.lr = train.lr
        self.dist = dist
        self.eval_seqs = int(eval_seqs)
        self.stage, self.base = stage, base
        self.cost = Cost()

    # --- states ---------------------------------------------------------------------------
    def init_state(self, seed: int) -> LMState:
        state = self.trainer.init_state(seed, len(self.domains))
        if self.base is not None:
            state.params = [p.detach().clone().to(self.trainer.device) for p in self.base.params(seed, self)]
        return state

    def copy(self, state: LMState) -> LMState:
        return state.copy()

    def distance(self, a: LMState, b: LMState) -> float:
        return float(math.sqrt(sum(float(((x - y).double() ** 2).sum()) for x, y in zip(a.params, b.params))))

    def interpolate(self, a: LMState, b: LMState, t: float) -> LMState:
        """(1 - t) a + t b for parameters and moments; step and data position of b (EMA references)."""
        lerp = lambda xs, ys: [x.lerp(y, t) for x, y in zip(xs, ys)]  # noqa: E731
        return LMState(lerp(a.params, b.params), lerp(a.exp_avg, b.exp_avg), lerp(a.exp_avg_sq, b.exp_avg_sq),
                       b.step, b.seed, b.cursor.copy())

    def state_arrays(self, state: LMState) -> dict[str, np.ndarray]:
        out = {"step": np.array(state.step, dtype=np.int64), "seed": np.array(state.seed, dtype=np.int64),
               "cursor": state.cursor.astype(np.int64)}
        for key, ts in (("param", state.params), ("exp_avg", state.exp_avg), ("exp_avg_sq", state.exp_avg_sq)):
            for name, t in zip(self.trainer.names, ts):
                out[f"{key}/{name}"] = t.detach().cpu().numpy()
        return out

    def state_from_arrays(self, arrays: dict[str, np.ndarray]) -> LMState:
        dev = self.trainer.device
        get = lambda key: [torch.tensor(arrays[f"{key}/{n}"], device=dev) for n in self.trainer.names]  # noqa: E731
        try:
            return LMState(get("param"), get("exp_avg"), get("exp_avg_sq"), int(arrays["step"]),
                           int(arrays["seed"]), np.array(arrays["cursor"], dtype=np.int64))
        except KeyError as e:
            raise BadInput(f"checkpoint: no array {e.args[0]!r} (saved by another model or problem?)") from None

    def fingerprint(self) -> str:
        # device and compilation change speed, not results; dtype and every hyper-parameter do
        train = {k: v for k, v in self.trainer.train.as_dict().items() if k not in ("device", "compile")}
        return fingerprint_of(["lm", self.data.fingerprint, list(self.domains), self.trainer.config.as_dict(), train,
                               self.mixing, self.batch_size, self.eval_batch, self.val_batch,
                               list(self.val_domains), self.val_weights,
                               None if self.base is None else self.base.id])

    # --- training -------------------------------------------------------------------------
    def lr_at(self, state: LMState, base: float | None = None) -> float:
        """The rate the next step of ``state`` takes (warm-up, then constant or cosine decay)."""
        return self.trainer.train.lr_at(state.step, base)

    def step(self, state: LMState, alpha, n: int = 1, *, val_weight: float = 0.0, lr: float | None = None,
             rng=None) -> LMState:
        """n AdamW steps on sum_i alpha_i L_i + val_weight L_val (a new state; the input is kept)."""
        alpha = np.asarray(alpha, dtype=np.float64)
        state = state.copy()
        for _ in range(int(n)):
            rows, w = self.batches.train(state, alpha)
            rows, w = [rows], [w]
            if val_weight:
                vr, vw = self.batches.val(state, val_weight)
                rows += vr
                w += vw
            rows, w = np.concatenate(rows), np.concatenate(w)
            mine = self.dist.rows(len(rows))
            grads = self.trainer.gradient(state.params, rows[mine], w[mine])
            self.trainer.apply(state, grads, lr)
            tokens = rows.shape[0] * (rows.shape[1] - 1)
            self.cost.add(grad_steps=1, examples=len(rows), tokens=tokens, flops=6.0 * self.trainer.n_params * tokens)
        return state

    # --- evaluation -----------------------------------------------------------------------
    def _domain_means(self, per_token: list[torch.Tensor], masks: list[np.ndarray]) -> np.ndarray:
        """Per-domain means over the tokens the masks count, summed over ranks."""
        k = len(per_token)
        sums = np.zeros(2 * k)
        for j, (t, mk) in enumerate(zip(per_token, masks)):
            mine = mk[self.dist.rows(len(mk))]
            sums[j] = float((t.double() * torch.as_tensor(mine, dtype=torch.float64, device=t.device)).sum())
            sums[k + j] = float(mine.sum())
        sums = self.dist.sum(sums)
        return sums[:k] / sums[k:]

    def _losses(self, states, rows_by_domain):
        """Per-token losses of each state on each domain's rows (this rank's share)."""
        out = []
        for st in states:
            out.append([self.trainer.token_losses(st.params, r[self.dist.rows(len(r))]) for r, _ in rows_by_domain])
        n_tok = sum(r.shape[0] * (r.shape[1] - 1) for r, _ in rows_by_domain)
        self.cost.add(forward_evals=len(states), flops=2.0 * self.trainer.n_params * n_tok * len(states))
        return out

    def train_losses(self, state: LMState, rng=None) -> np.ndarray:
        rows = self.batches.eval(state, "train", range(len(self.domains)))
        return self._domain_means(self._losses([state], rows)[0], [mk for _, mk in rows])

    def val_loss(self, state: LMState, rng=None) -> float:
        rows = self.batches.eval(state, "val", self.val_domains)
        return float(self.val_weights @ self._domain_means(self._losses([state], rows)[0], [mk for _, mk in rows]))

    def paired_losses(self, u: LMState, w: LMState, *, on_batch: bool = False, rng=None) -> PairedLosses:
        """Proxy u against reference w token by token on the same sequences: on_batch False, every
        domain's evaluation rows of the training split at u's position (TANDEM's twin gap); True, the
        proxy u's next training batch, the rows its step reads (DoReMi's lambda_i, research/peer_rules.md
        1), where a domain the batch does not hold gets NaN (more domains than rows: ``ClippedExcess``
        keeps its previous lambda, as DoReMi's code does). ``excess`` clips per token, as DoReMi's code."""
        per = self.batches.by_domain(u)[0] if on_batch else self.batches.eval(u, "train", range(len(self.domains)))
        rows = [(r, mk) for r, mk in per if len(r)]
        lu, lw = self._losses([u, w], rows)
        diff = [a - b for a, b in zip(lu, lw)]
        masks = [mk for _, mk in rows]
        held = [bool(len(r)) for r, _ in per]

        def per_domain(means):
            it = iter(means)
            return np.array([next(it) if h else np.nan for h in held])

        return PairedLosses(diff=per_domain(self._domain_means(diff, masks)),
                            excess=per_domain(self._domain_means([d.clamp_min(0) for d in diff], masks)))

    def domain_grads(self, state: LMState, rng=None) -> DomainGrads:
        """DoGE's inputs as its code computes them (research/peer_rules.md 2): each domain's gradient
        of its mean token loss on its share of the proxy's next training batch (sampling uniform,
        stratified), and the validation gradient. ``step`` then takes the proxy's step on
        sum_i c_i g_i from those same gradients (DoGE's code steps on sum_i alpha_i g_i of the
        clipped rows), so a DoGE step costs one backward over the batch plus the validation one.
        With ``BATCHED_FROM`` domains or more every domain's gradient comes from one vectorised call
        (``alignment.per_domain_gradients``, tested equal to ``naive_domain_grads``); with fewer, one
        backward per domain is faster and leaner (results/perf/summary.md: tiny GPT, 16 rows, M = 7:
        2.6x a plain step against 2.9x, peak memory 1.0x against 3.1x; M = 16: 4.0x against 3.0x).
        The naive path also under data parallelism (rows are sharded per rank) and with a compiled
        forward (vmap over a compiled graph is not supported)."""
        naive = len(self.domains) < BATCHED_FROM or self.dist.world > 1 or bool(self.trainer.train.compile)
        return alignment.domain_grads(self, state, fast=not naive)

    def naive_domain_grads(self, state: LMState, rng=None) -> DomainGrads:
        """The reference: one backward per domain, as DoGE's code does."""
        return alignment.domain_grads(self, state, fast=False)

    def batched_domain_grads(self, state: LMState, rng=None) -> DomainGrads:
        """Every domain's gradient in one vectorised call (single process, uncompiled forward)."""
        return alignment.domain_grads(self, state, fast=True)

    def evaluate(self, state: LMState, split: str = "test", domains=None, seqs: int | None = None) -> dict:
        """Per-domain mean token loss (nats per byte) and perplexity on the first ``eval_seqs`` (or
        ``seqs``) sequences of a split, evenly spaced (the same sequences for every state), their
        averages, and the standard error of each domain's loss over its sequences (``se``; the
        average's ``avg_se`` = sqrt(sum se_d^2) / k): the test set's own noise, to set beside the
        seed-to-seed spread."""
        names = list(self.data.domains if domains is None else domains)
        seqs = self.eval_seqs if seqs is None else int(seqs)
        per_token, masks, exact, se = [], [], [], []
        for d in names:
            s = self.data[d][split]
            rows, mk = take(s, np.unique(np.linspace(0, len(s) - 1, min(seqs, len(s))).astype(np.int64)))
            losses, correct = self.trainer.token_losses(state.params, rows[self.dist.rows(len(rows))], correct=True)
            per_token.append(losses)
            masks.append(mk)
            mine = mk[self.dist.rows(len(mk))]
            seq_mean = (losses.double().cpu().numpy() * mine).sum(1) / np.maximum(mine.sum(1), 1)
            se.append(float(seq_mean.std(ddof=1) / math.sqrt(len(seq_mean))) if len(seq_mean) > 1 else math.nan)
            # a supervised example is right when greedy decoding reproduces its whole answer, i.e.
            # every answer token is the argmax given the true prefix (teacher forcing)
            ok = (correct.cpu().numpy() | (mine == 0)).all(axis=1)
            exact.append(ok.astype(np.float64))
        loss = self._domain_means(per_token, masks)
        k = len(names)
        acc = self.dist.sum(np.array([e.sum() for e in exact] + [len(e) for e in exact], dtype=np.float64))
        ppl = np.exp(loss)
        out = {"loss": dict(zip(names, loss.tolist())), "ppl": dict(zip(names, ppl.tolist())),
               "avg_loss": float(loss.mean()), "avg_ppl": float(ppl.mean()), "se": dict(zip(names, se)),
               "avg_se": float(math.sqrt(np.nansum(np.square(se))) / k)}
        if any(self.data[d][split].mask is not None for d in names):
            a = acc[:k] / acc[k:]
            out.update(acc=dict(zip(names, a.tolist())), avg_acc=float(a.mean()))
        return out

    def repetitions(self, state: LMState) -> dict[str, float]:
        """Passes over each domain's unique training sequences so far (data-restricted settings)."""
        return {d: float(state.cursor[i] / len(self.data[d]["train"])) for i, d in enumerate(self.domains)}
