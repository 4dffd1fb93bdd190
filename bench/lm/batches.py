"""Every batch an LM state reads: a function of (seed, the state's own step, its data position).

Batches never depend on the random numbers a method drew: every method run with one seed starts
from the same initialisation and reads the same sequences, so methods are paired; twins copied from
one proxy read the same batches (common random numbers), so their loss gap measures the extra data,
not sampling noise.

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
      read the same slots wherever their weights agree. The Stage-Two target run uses it by default
      (bench.lm.target): paired comparisons of mixtures then see the mixture, not the draws.

Signals are taken on evaluation rows of ``eval_batch`` training sequences per domain drawn from
(seed, step), consuming no data position.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from .tokens import Stream, TokenData

TAG_SAMPLE, TAG_VAL, TAG_EVAL = 1, 2, 3  # independent streams of the per-step draws
MIXINGS = ("reweight", "sample", "systematic")
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0

Rows = tuple[np.ndarray, np.ndarray]  # token rows (n, T + 1) and their float loss mask (n, T)


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
    theta = np.random.default_rng([seed, TAG_SAMPLE]).random()
    s = np.arange(step * batch, (step + 1) * batch, dtype=np.float64)
    u = np.mod(theta + s * _GOLDEN, 1.0)
    edges = np.cumsum(alpha)
    edges[-1] = np.inf  # rounding of the cumulative sum never drops a slot
    return np.bincount(np.searchsorted(edges, u, side="right"), minlength=len(alpha))


def name_key(name: str) -> int:
    """A stable integer for a domain (or task) name: every random stream of a domain is keyed by
    its name, never by its position, so the order the domains are given in changes nothing."""
    return zlib.crc32(name.encode("utf-8"))


def take(split, ids) -> Rows:
    """Rows ids of a split and their float loss mask (all ones for plain text)."""
    rows = split.tokens[ids]
    mask = np.ones((len(ids), rows.shape[1] - 1)) if split.mask is None else split.mask[ids].astype(np.float64)
    return rows, mask


class Batches:
    """The batches of one setting. States are anything with ``seed``, ``step`` and ``cursor`` (the
    training sequences consumed per domain); the training batch advances the cursor in place."""

    def __init__(self, data: TokenData, domains: tuple[str, ...], mixing: str, batch_size: int, eval_batch: int,
                 val_batch: int, val_domains: tuple[str, ...], val_weights: np.ndarray):
        self.data, self.domains, self.mixing = data, domains, mixing
        self.batch_size, self.eval_batch, self.val_batch = batch_size, eval_batch, val_batch
        self.val_domains, self.val_weights = val_domains, val_weights
        self._canon = np.argsort(np.array(domains, dtype=object), kind="stable")  # the domains' name order
        self._streams: dict[tuple[int, int], Stream] = {}

    def _stream(self, state, i: int) -> Stream:
        key = (state.seed, i)
        if key not in self._streams:
            name = self.domains[i]
            self._streams[key] = Stream(len(self.data[name]["train"]), state.seed, name_key(name))
        return self._streams[key]

    def counts(self, state, alpha: np.ndarray) -> np.ndarray:
        """Sequences per domain this step. Drawn in the domains' name order, so a permutation of the
        domains permutes the counts and changes nothing else."""
        if self.mixing == "reweight":
            return self.stratified_counts(state)
        counts = np.zeros(len(self.domains), dtype=np.int64)
        if not alpha.sum() > 0:  # a pure validation step (DoGE's look-ahead): no training rows
            return counts
        order = self._canon
        a = alpha[order] / alpha[order].sum()
        if self.mixing == "systematic":
            counts[order] = systematic_counts(a, state.seed, state.step, self.batch_size)
        else:
            counts[order] = np.random.default_rng([state.seed, state.step, TAG_SAMPLE]).multinomial(self.batch_size, a)
        return counts

    def stratified_counts(self, state) -> np.ndarray:
        """B // m sequences of each domain, the remainder to domains in a rotation that depends on the step."""
        m, B = len(self.domains), self.batch_size
        counts = np.zeros(m, dtype=np.int64)
        extra = np.zeros(m, dtype=np.int64)
        extra[(np.arange(B % m) + state.step) % m] = 1
        counts[self._canon] = B // m + extra
        return counts

    def _read(self, state, counts: np.ndarray) -> tuple[list[Rows], np.ndarray]:
        """Each domain's next ``counts`` training rows, and the data position after them."""
        cursor = state.cursor.copy()
        out = []
        for i, c in enumerate(counts):
            ids = self._stream(state, i).ids(int(cursor[i]), int(c))
            cursor[i] += c
            out.append(take(self.data[self.domains[i]]["train"], ids))
        return out, cursor

    def by_domain(self, state) -> tuple[list[Rows], np.ndarray]:
        """The proxy's next training batch as DoReMi's and DoGE's code read it (sampling uniform,
        stratified; alpha weights the loss, research/peer_rules.md 1-2): each domain's rows and loss
        mask, and the data position after them (the rows a reweighted step of the state consumes)."""
        return self._read(state, self.stratified_counts(state))

    def train(self, state, alpha: np.ndarray) -> Rows:
        """The step's training rows and per-token loss weights; advances the state's data position.
        A domain reweighted to nothing is read (the position stays a function of the step) and dropped."""
        per, state.cursor = self._read(state, self.counts(state, alpha))
        rows, masks = [], []
        for (r, mk), a in zip(per, alpha):
            if len(r) and a != 0:
                rows.append(r)
                # reweight: alpha_i times domain i's token mean; sample: the batch's token mean (below)
                masks.append(mk * (a / mk.sum()) if self.mixing == "reweight" else mk)
        if not rows:
            return np.zeros((0, self.data.seq_len + 1), dtype=np.uint16), np.zeros((0, self.data.seq_len))
        w = np.concatenate(masks)
        return np.concatenate(rows), (w if self.mixing == "reweight" else w / w.sum())

    def rows(self, state, split: str, domain: str, n: int, tag: int) -> Rows:
        """n sequences of one split and their loss mask, drawn (with replacement) from (seed, step,
        tag, domain name): the same for every state at this step, and consuming no data position."""
        s = self.data[domain][split]
        rng = np.random.default_rng([state.seed, state.step, tag, name_key(domain)])
        return take(s, rng.integers(0, len(s), n))

    def val(self, state, weight: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Rows and per-token weights of weight * L_val = weight * sum_j v_j L_j^val."""
        rows, wts = [], []
        for d, v in zip(self.val_domains, self.val_weights):
            if v > 0:
                r, mk = self.rows(state, "val", d, self.val_batch, TAG_VAL)
                rows.append(r)
                wts.append(mk * (weight * v / mk.sum()))
        return rows, wts

    def eval(self, state, split: str, domains) -> list[Rows]:
        """``eval_batch`` rows of each domain (an index into the mixture's domains, or a name)."""
        names = [self.domains[i] if isinstance(i, int) else i for i in domains]
        return [self.rows(state, split, d, self.eval_batch, TAG_EVAL) for d in names]
