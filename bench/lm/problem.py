"""The small language model as a ``tandem_ref`` Problem, and the Stage-Two target run.

Batches are a function of (seed, the state's own step, its data position), never of the random
numbers a method drew: every method run with one seed starts from the same initialisation and
reads the same sequences, so methods are paired; twins copied from one proxy read the same
batches (common random numbers), so their loss gap measures the extra data, not sampling noise.
The loop's ``rng`` argument is accepted and ignored.

The alpha-mixture (``mixing``):
  "reweight" (default for learning a mixture): every step takes the same number of sequences
      from each domain (stratified) and minimises sum_i alpha_i * (mean token loss of domain i).
      This is exactly the objective L_train(alpha, w) = sum_i alpha_i L_i(w) whose alpha-gradient
      TANDEM's twin gap is (Danskin on Eq. 2 of research/tandem_paper.md), and it is what
      DoReMi's and DoGE's code do (research/peer_rules.md 1-2: sampling stays uniform, alpha
      weights the loss). It keeps the batches identical across mixtures, so the paired
      comparisons of DESIGN.md see only the mixture.
  "sample": each step's domain counts are drawn Multinomial(B, alpha) (keyed by seed and step)
      and the loss is the plain token mean: how a model is trained on a learned mixture (the
      paper's Stage Two, Fig. 1a), and how a domain's repetitions follow its weight when data
      are restricted.
  "systematic": the same expectation without the multinomial noise: the domain of each batch
      slot follows a golden-ratio Weyl sequence (``systematic_counts``), so every prefix of the
      run holds each domain's share to within O(log n) sequences and two mixtures with one seed
      read the same slots wherever their weights agree. ``target_run`` uses it by default
      (``stage_two_sampling``): paired comparisons of mixtures then see the mixture, not the
      draws.

Signals are taken on an evaluation batch of ``eval_batch`` training sequences per domain drawn
from (seed, step): the twin gap and DoReMi's excess loss (clipped per token, as DoReMi's code
does) compare the two states token by token on the same sequences.
"""

from __future__ import annotations

import json
import math
import time
import zlib

import numpy as np
import torch

from tandem_ref.errors import BadInput, require_int
from tandem_ref.problem import Cost, GradStats, fingerprint_of
from tandem_ref.simplex import validate_mixture

from .alignment import per_domain_gradients
from .corpus import Corpus, embedded_corpus, read_domains
from .ddp import LOCAL, Dist
from .model import config as model_config
from .tokens import Stream, TokenData, tokenize
from .trainer import LMState, TrainConfig, Trainer, flat

_TAG_SAMPLE, _TAG_VAL, _TAG_EVAL = 1, 2, 3  # independent streams of the per-step draws
MIXINGS = ("reweight", "sample", "systematic")
BATCHED_FROM = 10  # DoGE's per-domain gradients in one vectorised call from this many domains on (see grad_stats)
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def systematic_counts(alpha: np.ndarray, seed: int, step: int, batch: int) -> np.ndarray:
    """Sequences per domain at one step under Weyl-sequence (golden-ratio) systematic sampling.

    Slot s of the run (step * batch + j) goes to the domain whose interval of the cumulative
    mixture holds u_s = frac(theta + s * phi), phi the golden ratio's fraction and theta a
    phase drawn from the seed. The u_s are equidistributed with discrepancy O(log n / n) (the
    golden ratio is the badly approximable number), so after any n slots every domain has
    n * alpha_i sequences to within O(log n), where multinomial draws deviate by O(sqrt(n)).
    The slots are the same for every mixture with one seed, so two mixtures differ only where
    their interval boundaries differ (common random numbers for paired comparisons), and the
    counts are a function of (mixture, seed, step): resumable and order-free."""
    theta = np.random.default_rng([seed, _TAG_SAMPLE]).random()
    s = np.arange(step * batch, (step + 1) * batch, dtype=np.float64)
    u = np.mod(theta + s * _GOLDEN, 1.0)
    edges = np.cumsum(alpha)
    edges[-1] = np.inf  # rounding of the cumulative sum never drops a slot
    return np.bincount(np.searchsorted(edges, u, side="right"), minlength=len(alpha))


def name_key(name: str) -> int:
    """A stable integer for a domain (or task) name: every random stream of a domain is keyed by
    its name, never by its position, so the order the domains are given in changes nothing."""
    return zlib.crc32(name.encode("utf-8"))


class LMProblem:
    def __init__(self, data: TokenData, *, domains=None, model="small", batch_size: int = 16,
                 mixing: str = "reweight", eval_batch: int = 4, val_batch: int | None = None,
                 val_weights=None, train: TrainConfig = TrainConfig(), dist: Dist = LOCAL,
                 eval_seqs: int = 32):
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
        self._canon = np.argsort(np.array(self.domains, dtype=object), kind="stable")  # name order
        self.trainer = Trainer(model_config(model, data.seq_len), train, dist)
        self.lr = train.lr
        self.dist = dist
        self.eval_seqs = int(eval_seqs)
        self.cost = Cost()
        self._streams: dict[tuple[int, int], Stream] = {}
        # a pre-trained base model (seed -> parameters) that init_state starts from, with a fresh
        # optimizer; None: random initialisation. base_id names it in the fingerprint.
        self.base, self.base_id = None, None

    # --- states ---------------------------------------------------------------------------
    def init_state(self, seed: int) -> LMState:
        state = self.trainer.init_state(seed, len(self.domains))
        if self.base is not None:
            state.params = [p.detach().clone().to(self.trainer.device) for p in self.base(seed)]
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
                               list(self.val_domains), self.val_weights, self.base_id])

    # --- batches --------------------------------------------------------------------------
    def _stream(self, state: LMState, i: int) -> Stream:
        key = (state.seed, i)
        if key not in self._streams:
            name = self.domains[i]
            self._streams[key] = Stream(len(self.data[name]["train"]), state.seed, name_key(name))
        return self._streams[key]

    def _counts(self, state: LMState, alpha) -> np.ndarray:
        """Sequences per domain this step. Drawn in the domains' name order (``_canon``), so a
        permutation of the domains permutes the counts and changes nothing else."""
        m, B = len(self.domains), self.batch_size
        order = self._canon
        counts = np.zeros(m, dtype=np.int64)
        if self.mixing in ("sample", "systematic"):
            if not alpha.sum() > 0:  # a pure validation step (DoGE's look-ahead): no training rows
                return counts
            a = alpha[order]
            if self.mixing == "systematic":
                counts[order] = systematic_counts(a / a.sum(), state.seed, state.step, B)
            else:
                counts[order] = np.random.default_rng([state.seed, state.step, _TAG_SAMPLE]).multinomial(B, a / a.sum())
            return counts
        return self._stratified_counts(state)

    def _stratified_counts(self, state: LMState) -> np.ndarray:
        """B // m sequences of each domain, the remainder to domains in a rotation that depends on the step."""
        m, B = len(self.domains), self.batch_size
        counts = np.zeros(m, dtype=np.int64)
        extra = np.zeros(m, dtype=np.int64)
        extra[(np.arange(B % m) + state.step) % m] = 1
        counts[self._canon] = B // m + extra
        return counts

    def _batch_by_domain(self, state: LMState) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
        """The proxy's next training batch as DoReMi's and DoGE's code read it (sampling uniform,
        stratified; alpha weights the loss, research/peer_rules.md 1-2): each domain's rows and loss
        mask, and the data position after them (the rows a reweighted ``step`` of the state consumes)."""
        cursor = state.cursor.copy()
        out = []
        for i, c in enumerate(self._stratified_counts(state)):
            ids = self._stream(state, i).ids(int(cursor[i]), int(c))
            cursor[i] += c
            out.append(_take(self.data[self.domains[i]]["train"], ids))
        return out, cursor

    def _train_batch(self, state: LMState, alpha) -> tuple[np.ndarray, np.ndarray]:
        """The step's training rows and per-token loss weights; advances the state's data position."""
        counts = self._counts(state, alpha)
        rows, masks = [], []
        for i, c in enumerate(counts):
            if c == 0:
                continue
            ids = self._stream(state, i).ids(int(state.cursor[i]), int(c))
            state.cursor[i] += c
            if alpha[i] == 0:  # reweighted to nothing: read (the position stays a function of the step), skip
                continue
            r, mk = _take(self.data[self.domains[i]]["train"], ids)
            rows.append(r)
            # reweight: alpha_i times domain i's token mean; sample: the batch's token mean (below)
            masks.append(mk * (alpha[i] / mk.sum()) if self.mixing == "reweight" else mk)
        if not rows:
            return np.zeros((0, self.data.seq_len + 1), dtype=np.uint16), np.zeros((0, self.data.seq_len))
        w = np.concatenate(masks)
        return np.concatenate(rows), (w if self.mixing == "reweight" else w / w.sum())

    def _rows(self, state: LMState, split: str, domain: str, n: int, tag: int):
        """n sequences of one split and their loss mask, drawn (with replacement) from (seed, step,
        tag, domain name): the same for every state at this step, and consuming no data position."""
        s = self.data[domain][split]
        rng = np.random.default_rng([state.seed, state.step, tag, name_key(domain)])
        return _take(s, rng.integers(0, len(s), n))

    def _val_batch(self, state: LMState, weight: float):
        """Rows and per-token weights of weight * L_val = weight * sum_j v_j L_j^val."""
        rows, wts = [], []
        for d, v in zip(self.val_domains, self.val_weights):
            if v > 0:
                r, mk = self._rows(state, "val", d, self.val_batch, _TAG_VAL)
                rows.append(r)
                wts.append(mk * (weight * v / mk.sum()))
        return rows, wts

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
            rows, w = self._train_batch(state, alpha)
            rows, w = [rows], [w]
            if val_weight:
                vr, vw = self._val_batch(state, val_weight)
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
    def _eval_rows(self, state: LMState, split: str, domains) -> list[tuple[np.ndarray, np.ndarray]]:
        names = [self.domains[i] if isinstance(i, int) else i for i in domains]
        return [self._rows(state, split, d, self.eval_batch, _TAG_EVAL) for d in names]

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
        rows = self._eval_rows(state, "train", range(len(self.domains)))
        return self._domain_means(self._losses([state], rows)[0], [mk for _, mk in rows])

    def val_loss(self, state: LMState, rng=None) -> float:
        rows = self._eval_rows(state, "val", self.val_domains)
        return float(self.val_weights @ self._domain_means(self._losses([state], rows)[0], [mk for _, mk in rows]))

    def loss_gap(self, w: LMState, u: LMState, rng=None) -> np.ndarray:
        """L_i(w) - L_i(u) per domain, token by token on the same sequences (u's step draws them)."""
        rows = self._eval_rows(u, "train", range(len(self.domains)))
        lw, lu = self._losses([w, u], rows)
        return self._domain_means([a - b for a, b in zip(lw, lu)], [mk for _, mk in rows])

    def excess_loss(self, u: LMState, w: LMState, clip: bool = True, rng=None) -> np.ndarray:
        """DoReMi's lambda_i (research/peer_rules.md 1): per-token l_u(x) - l_w(x) on the proxy u's
        next training batch (the rows its step reads), clipped at 0 per token, averaged over each
        domain's tokens in the batch; NaN for a domain the batch does not hold (more domains than
        rows: ``ClippedExcess`` keeps its previous lambda, as DoReMi's code does)."""
        per, _ = self._batch_by_domain(u)
        rows = [(r, mk) for r, mk in per if len(r)]
        lu, lw = self._losses([u, w], rows)
        means = iter(self._domain_means([(a - b).clamp_min(0) if clip else a - b for a, b in zip(lu, lw)],
                                        [mk for _, mk in rows]))
        return np.array([next(means) if len(r) else np.nan for r, _ in per])

    def grad_stats(self, state: LMState, rng=None) -> GradStats:
        """DoGE's inputs as its code computes them (research/peer_rules.md 2): each domain's gradient
        of its mean token loss on its share of the proxy's next training batch (sampling uniform,
        stratified), and the validation gradient. ``step`` then takes the proxy's step on
        sum_i c_i g_i from those same gradients (DoGE's code steps on sum_i alpha_i g_i of the
        clipped rows), so a DoGE step costs one backward over the batch plus the validation one.
        With more than ``BATCHED_FROM`` domains every domain's gradient comes from one vectorised call
        (``alignment.per_domain_gradients``, tested equal to ``naive_grad_stats``); with fewer, one
        backward per domain is faster and leaner (results/perf/summary.md: tiny GPT, 16 rows, M = 7:
        2.6x a plain step against 2.9x, peak memory 1.0x against 3.1x; M = 16: 4.0x against 3.0x).
        The naive path also under data parallelism (rows are sharded per rank) and with a compiled
        forward (vmap over a compiled graph is not supported)."""
        naive = len(self.domains) < BATCHED_FROM or self.dist.world > 1 or bool(self.trainer.train.compile)
        return self._grad_stats(state, fast=not naive)

    def naive_grad_stats(self, state: LMState, rng=None) -> GradStats:
        """The reference: one backward per domain, as DoGE's code does."""
        return self._grad_stats(state, fast=False)

    def batched_grad_stats(self, state: LMState, rng=None) -> GradStats:
        """Every domain's gradient in one vectorised call (single process, uncompiled forward)."""
        return self._grad_stats(state, fast=True)

    def _grad_stats(self, state: LMState, fast: bool) -> GradStats:
        per, cursor = self._batch_by_domain(state)
        weights = [mk / max(mk.sum(), 1e-300) for _, mk in per]
        if fast:
            G = per_domain_gradients(self.trainer, state.params, [r for r, _ in per], weights)
        else:
            P = sum(p.numel() for p in state.params)
            G = torch.stack([flat(self.trainer.gradient(state.params, r[self.dist.rows(len(r))],
                                                        wt[self.dist.rows(len(r))]))
                             if len(r) else torch.zeros(P) for (r, _), wt in zip(per, weights)])
        vr, vw = self._val_batch(state, 1.0)
        vr, vw = np.concatenate(vr), np.concatenate(vw)
        mine = self.dist.rows(len(vr))
        gv = flat(self.trainer.gradient(state.params, vr[mine], vw[mine]))
        T = self.data.seq_len
        self.cost.add(forward_evals=1, flops=6.0 * self.trainer.n_params * len(vr) * T)  # the validation backward
        n_rows = sum(len(r) for r, _ in per)

        def step(coef, lr: float | None = None) -> LMState:
            """The proxy's step on sum_i coef_i g_i (the batch's backward is charged here, as a step's)."""
            g = torch.as_tensor(np.asarray(coef, dtype=np.float64), dtype=G.dtype) @ G
            nxt = state.copy()
            nxt.cursor = cursor.copy()
            grads, o = [], 0
            for p in nxt.params:
                grads.append(g[o:o + p.numel()].view_as(p).to(p.dtype))
                o += p.numel()
            self.trainer.apply(nxt, grads, lr)
            tokens = n_rows * T
            self.cost.add(grad_steps=1, examples=n_rows, tokens=tokens, flops=6.0 * self.trainer.n_params * tokens)
            return nxt

        Gd = G.double()
        return GradStats(align=(Gd @ gv.double()).numpy(), norms=Gd.norm(dim=1).numpy(), val_norm=float(gv.norm()),
                         step=step)

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
            rows, mk = _take(s, np.unique(np.linspace(0, len(s) - 1, min(seqs, len(s))).astype(np.int64)))
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

    # --- Stage Two --------------------------------------------------------------------------
    def target_run(self, alpha, steps: int, seed: int, finetune: tuple[str, int] | None = None,
                   split: str = "test", curve_every: int = 0, curve_seqs: int = 64) -> dict:
        """Train a fresh model on the mixture (alpha-sampled batches, cosine decay over the run)
        and report per-domain and average loss and perplexity on ``split`` (test), plus the same on
        the validation split (``val``: what tuning and the best-of-grid choice read, never test) and
        on the training split (``train``: the train-test gap of the regime). With
        ``finetune=(domain, k)``, then fine-tune k steps on that domain alone (the multi-stage
        setting) before evaluating. ``curve_every`` > 0 records the average test loss every that
        many steps on ``curve_seqs`` sequences per domain (``curve``: step -> loss; the
        faster-convergence claim reads it)."""
        alpha = validate_mixture(alpha, self.domains, name="mixture")
        t0 = time.perf_counter()
        saved_cost = self.cost.as_dict()
        target = LMProblem(self.data, domains=self.domains, model=self.trainer.config, batch_size=self.batch_size,
                           mixing=self.stage_two_mixing, eval_batch=self.eval_batch,
                           val_weights=dict(zip(self.val_domains, self.val_weights)),
                           train=_with(self.trainer.train, decay_steps=steps), dist=self.dist,
                           eval_seqs=self.eval_seqs)
        target.base, target.base_id = self.base, self.base_id
        state, curve = target.init_state(seed), {}
        chunk = int(curve_every) if curve_every and finetune is None else steps
        while state.step < steps:
            state = target.step(state, alpha, min(chunk, steps - state.step))
            if curve_every and finetune is None:
                curve[int(state.step)] = target.evaluate(state, split, domains=self.domains,
                                                         seqs=curve_seqs)["avg_loss"]
        train_flops = target.cost.flops
        reps = target.repetitions(state)
        if finetune is not None:
            dom, k = finetune
            ft = LMProblem(self.data, domains=[dom], model=self.trainer.config, batch_size=self.batch_size,
                           mixing=self.stage_two_mixing, val_weights=dom,
                           train=_with(self.trainer.train, decay_steps=k, warmup=0), dist=self.dist,
                           eval_seqs=self.eval_seqs)
            ft_state = ft.init_state(seed)
            ft_state.params = state.params  # fresh optimizer, pre-trained weights
            state = ft.step(ft_state, [1.0], k)
        out = target.evaluate(state, split)
        out["val"] = target.evaluate(state, "val")
        out["train"] = target.evaluate(state, "train", domains=self.domains)
        out.update(repetitions=reps, steps=steps, cost=target.cost.as_dict(), wall_s=time.perf_counter() - t0,
                   tokens_per_s=target.cost.tokens / max(time.perf_counter() - t0, 1e-9), curve=curve,
                   flops_per_step=train_flops / max(steps, 1))
        self.cost.load(saved_cost)
        return out

    seed, stage_two_steps, finetune_steps, finetune_domain, curve_every = 0, 0, 0, None, 0  # set by ``make``
    stage_two_mixing = "systematic"  # how the target run draws domains: "systematic" or "sample"

    def stage_two(self, alpha) -> dict:
        """The target run of this setting (``make``'s stage_two_steps, finetune_steps, finetune_domain)."""
        ft = (self.finetune_domain, self.finetune_steps) if self.finetune_steps else None
        return self.target_run(alpha, self.stage_two_steps, self.seed, finetune=ft, curve_every=self.curve_every)


def _take(split, ids) -> tuple[np.ndarray, np.ndarray]:
    """Rows ids of a split and their float loss mask (all ones for plain text)."""
    rows = split.tokens[ids]
    mask = np.ones((len(ids), rows.shape[1] - 1)) if split.mask is None else split.mask[ids].astype(np.float64)
    return rows, mask


def _with(train: TrainConfig, **changes) -> TrainConfig:
    return TrainConfig(**{**train.as_dict(), **changes})


def lm_problem(seed: int = 0, *, corpus: Corpus | None = None, domains=None, seq_len: int = 128,
               train_tokens=None, val_weights=None, finetune_domain: str | None = None, **settings) -> LMProblem:
    """The small byte-level GPT on text domains (the embedded Python-installation corpus by default).

    ``domains``: names, or N for the first N domains; ``train_tokens`` caps unique training tokens
    per domain (data-restricted);
    ``val_weights``: the validation objective (a domain name: a fine-tuning target, which may lie
    outside the mixture). Other settings: see ``make``."""
    require_int("problem 'lm': seq_len", seq_len, 2)
    if isinstance(corpus, (str, list, tuple)):  # a suite's corpus = "PATH" or ["NAME=PATH", ...] (as `mix`)
        corpus = read_domains([corpus] if isinstance(corpus, str) else list(corpus))
    elif corpus is not None and not isinstance(corpus, Corpus):
        raise BadInput(f"problem 'lm': corpus must be a path or a list of [NAME=]PATH, got {corpus!r}")
    corpus = embedded_corpus() if corpus is None else corpus
    if isinstance(domains, int):
        domains = corpus.names[:domains]
    data_domains = list(corpus.names if domains is None else domains)
    extra = [] if val_weights is None else [val_weights] if isinstance(val_weights, str) else list(val_weights)
    extra += [finetune_domain] if finetune_domain else []
    data_domains += [d for d in dict.fromkeys(extra) if d not in data_domains]
    key = (corpus.fingerprint, tuple(data_domains), seq_len, json.dumps(train_tokens, sort_keys=True))
    if key not in _DATA:  # a sweep builds one problem per cell: tokenize once per process
        _DATA[key] = tokenize(corpus.select(data_domains), seq_len, train_tokens)
    return make(_DATA[key], seed, domains=domains, val_weights=val_weights, finetune_domain=finetune_domain,
                **settings)


_DATA: dict = {}


def make(data: TokenData, seed: int = 0, *, domains=None, model="small", batch_size: int = 16,
         mixing: str = "reweight", lr: float = 3e-3, warmup: int = 20, eval_batch: int = 4,
         val_batch: int | None = None, val_weights=None, device: str = "cpu", dtype: str = "float32",
         compile=False, dist: Dist = LOCAL, eval_seqs: int = 32, threads: int | None = None,
         stage_two_steps: int = 0, finetune_steps: int = 0, finetune_domain: str | None = None,
         curve_every: int = 0, stage_two_sampling: str = "systematic") -> LMProblem:
    """An LMProblem on tokenized data. ``stage_two_steps`` (and ``finetune_steps`` on
    ``finetune_domain``, by default the single validation domain: the multi-stage setting; a
    stage-unaware mixer keeps the default validation objective and names the target here)
    configure ``LMProblem.stage_two``, the target run the "lm-target" scorer reports. The seed is
    not used to build the problem (data and splits are seed-free); it is kept as the seed of the
    Stage-Two run, pairing it across methods. ``stage_two_sampling``: how the target run draws each
    batch's domains from the mixture ("systematic": a Weyl sequence, no multinomial noise;
    "sample": Multinomial draws)."""
    if stage_two_sampling not in ("systematic", "sample"):
        raise BadInput(f"stage_two_sampling: expected 'systematic' or 'sample', got {stage_two_sampling!r}")
    for name, value, minimum in (("batch_size", batch_size, 1), ("eval_batch", eval_batch, 1),
                                 ("eval_seqs", eval_seqs, 1), ("warmup", warmup, 0),
                                 ("stage_two_steps", stage_two_steps, 0), ("finetune_steps", finetune_steps, 0),
                                 ("curve_every", curve_every, 0)):
        require_int(f"problem 'lm': {name}", value, minimum)
    if threads is not None:
        torch.set_num_threads(require_int("problem 'lm': threads", threads, 1))
    p = LMProblem(data, domains=domains, model=model, batch_size=batch_size, mixing=mixing, eval_batch=eval_batch,
                  val_batch=val_batch, val_weights=val_weights,
                  train=TrainConfig(lr=lr, warmup=warmup, device=device, dtype=dtype, compile=compile),
                  dist=dist, eval_seqs=eval_seqs)
    p.seed, p.stage_two_steps, p.finetune_steps = int(seed), int(stage_two_steps), int(finetune_steps)
    p.curve_every, p.stage_two_mixing = int(curve_every), stage_two_sampling
    if finetune_steps and finetune_domain is None:
        if len(p.val_domains) != 1:
            raise BadInput("finetune_steps: the multi-stage setting fine-tunes on one domain; give val_weights = NAME "
                           "or finetune_domain = NAME")
        finetune_domain = p.val_domains[0]
    if finetune_domain is not None and finetune_domain not in data.domains:
        raise BadInput(f"finetune_domain: {finetune_domain!r} is not in the data (domains: {', '.join(data.domains)})")
    p.finetune_domain = finetune_domain
    return p


def stage_two_scorer(problem: LMProblem, cache=None):
    """The harness scorer "lm-target": Stage Two on a mixture (a fresh model trained
    ``stage_two_steps`` on it, then fine-tuned ``finetune_steps`` on the target if set), scored by
    per-domain and average test loss, perplexity and (supervised tasks) accuracy. It scores only
    the mixture a method returns (``final_only``): a target run per logged row would cost more
    than the method."""
    if not problem.stage_two_steps:
        raise BadInput("scorer 'lm-target': the problem needs stage_two_steps > 0")
    seen = {}

    def score(alpha) -> dict:
        key = np.asarray(alpha, dtype=np.float64).tobytes()
        if key not in seen:
            r = problem.stage_two(alpha)
            out = {"avg_loss": r["avg_loss"], "avg_ppl": r["avg_ppl"], "avg_se": r["avg_se"],
                   "val_avg_loss": r["val"]["avg_loss"], "train_avg_loss": r["train"]["avg_loss"],
                   "stage_two.wall_s": r["wall_s"], "stage_two.tokens_per_s": r["tokens_per_s"],
                   "stage_two.flops": r["cost"]["flops"], "stage_two.flops_per_step": r["flops_per_step"],
                   "stage_two.steps": r["steps"]}
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
