"""Byte-level tokens, document-level splits, fixed-length sequences and the per-domain streams.

Tokens are the bytes 0..255 plus END (256) after every document, so nothing needs a tokenizer
and one token is one byte (losses are nats per byte). Each domain's documents are split into
train/validation/test by a hash of their content (never by position, so appending files does not
move old documents between splits), each split is one token stream, and a stream is read as
non-overlapping windows of seq_len + 1 tokens (input and shifted target).

A domain's training sequences are consumed through a stream that visits every window once per
epoch, in an order drawn from (seed, domain, epoch). How many windows a run consumed over how
many exist is the domain's repetition count (data-restricted settings cap the unique tokens).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from tandem_ref.errors import BadInput

from .corpus import Corpus, Domain

END = 256
VOCAB = 257
SPLITS = ("train", "val", "test")
FRACTIONS = {"train": 0.9, "val": 0.05, "test": 0.05}


def split_documents(domain: Domain) -> dict[str, list[bytes]]:
    """Assign each document to one split, in hash order, to the split furthest below its byte
    share. Exact duplicates are kept once (a copy in another split would leak it)."""
    unique = {hashlib.sha256(d).digest(): d for d in domain.docs}
    if len(unique) < 3:
        raise BadInput(f"domain {domain.name!r}: {len(unique)} distinct document(s); train, validation and test need "
                       "at least 3 (give a folder of several files, or separate paragraphs by blank lines)")
    out = {s: [] for s in SPLITS}
    size = dict.fromkeys(SPLITS, 0)
    done = 0
    for _, doc in sorted(unique.items()):
        done += len(doc)
        s = max(SPLITS, key=lambda k: FRACTIONS[k] * done - size[k])
        out[s].append(doc)
        size[s] += len(doc)
    for s in ("val", "test"):  # a tiny domain: make sure every split has a document
        if not out[s]:
            j = min(range(len(out["train"])), key=lambda k: len(out["train"][k]))
            out[s].append(out["train"].pop(j))
    return out


def encode(docs) -> np.ndarray:
    """Documents -> one uint16 stream, END after each."""
    parts = []
    for d in docs:
        parts.append(np.frombuffer(d, dtype=np.uint8).astype(np.uint16))
        parts.append(np.array([END], dtype=np.uint16))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint16)


def windows(stream: np.ndarray, seq_len: int) -> np.ndarray:
    """Non-overlapping (n, seq_len + 1) windows of a stream (a read-only view, no copy)."""
    n = (len(stream) - 1) // seq_len
    s = stream.strides[0]
    return np.lib.stride_tricks.as_strided(stream, (n, seq_len + 1), (seq_len * s, s), writeable=False)


@dataclass
class Split:
    """Sequences of one split of one domain: tokens (n, T + 1); mask (n, T) marks the targets that
    count in the loss (None: all; supervised tasks mask the prompt and padding)."""

    tokens: np.ndarray
    mask: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def n_tokens(self) -> int:
        return int(self.tokens.shape[0] * (self.tokens.shape[1] - 1)) if self.mask is None else int(self.mask.sum())


@dataclass
class TokenData:
    """Every domain's three splits, as sequences of one length."""

    domains: tuple[str, ...]
    splits: dict[str, dict[str, Split]]  # domain -> split -> Split
    seq_len: int
    fingerprint: str

    def __getitem__(self, domain: str) -> dict[str, Split]:
        return self.splits[domain]

    def sizes(self) -> np.ndarray:
        """Unique training tokens per domain (the natural mixture is proportional to these)."""
        return np.array([self.splits[d]["train"].n_tokens for d in self.domains], dtype=np.float64)


def tokenize(corpus: Corpus, seq_len: int, train_tokens=None) -> TokenData:
    """Split and encode a corpus. ``train_tokens`` caps each domain's unique training tokens: one
    number for every domain or a mapping domain -> number (the data-restricted settings)."""
    caps = _caps(train_tokens, corpus.names)
    splits = {}
    for dom in corpus.domains:
        parts = split_documents(dom)
        splits[dom.name] = {}
        for s in SPLITS:
            stream = encode(parts[s])
            if s == "train" and caps[dom.name] is not None:
                stream = stream[:caps[dom.name]]
            if len(stream) < seq_len + 1:
                raise BadInput(f"domain {dom.name!r}: its {s} split has {len(stream)} tokens, fewer than one "
                               f"sequence of {seq_len + 1} (a domain needs about {20 * (seq_len + 1)} bytes)")
            splits[dom.name][s] = Split(windows(stream, seq_len))
    fp = hashlib.sha256(f"{corpus.fingerprint}/{seq_len}/{sorted(caps.items(), key=str)}".encode()).hexdigest()[:16]
    return TokenData(corpus.names, splits, seq_len, fp)


def _caps(train_tokens, names) -> dict:
    if train_tokens is None or isinstance(train_tokens, (int, np.integer)):
        caps = dict.fromkeys(names, None if train_tokens is None else int(train_tokens))
    elif isinstance(train_tokens, dict):
        unknown = [k for k in train_tokens if k not in names]
        if unknown:
            raise BadInput(f"train_tokens: unknown domain {unknown[0]!r} (domains: {', '.join(names)})")
        caps = {n: (None if train_tokens.get(n) is None else int(train_tokens[n])) for n in names}
    else:
        raise BadInput(f"train_tokens: expected a number or a mapping domain -> number, got {train_tokens!r}")
    for n, c in caps.items():
        if c is not None and c <= 0:
            raise BadInput(f"train_tokens: the budget of domain {n!r} must be positive, got {c}")
    return caps


class Stream:
    """Domain i's training sequences in order: window ``perm_e[j mod n]`` with e = j // n, where
    perm_e is drawn from (seed, i, e). A function of (seed, position) only, so twins copied from
    one proxy, and methods run with one seed, read the same sequences."""

    def __init__(self, n: int, seed: int, index: int):
        self.n, self.seed, self.index = n, seed, index
        self._perm: tuple[int, np.ndarray] | None = None

    def ids(self, start: int, count: int) -> np.ndarray:
        out = np.empty(count, dtype=np.int64)
        for k, j in enumerate(range(start, start + count)):
            e, p = divmod(j, self.n)
            if self._perm is None or self._perm[0] != e:
                self._perm = (e, np.random.default_rng([self.seed, self.index, e]).permutation(self.n))
            out[k] = self._perm[1][p]
        return out
