"""Supervised tasks built from the embedded corpus: the setting of the paper's SFT experiment
(research/tandem_paper.md 5.3: a mixture over task categories, Natural Instructions there).

Each task is a domain whose documents are (prompt, answer) pairs, written as one sequence
``prompt + answer`` padded with END; only the answer's bytes count in the loss (the mask of
bench.lm.tokens.Split). An example is answered right when greedy decoding reproduces the whole
answer (LMProblem.evaluate). Examples are split by a hash of their source (the function, the
licence window, the topic window), so a source is never in two splits.

  fn_name   first docstring line of a stdlib function  -> the function's name
  summary   a stdlib function's signature              -> the first line of its docstring
  licence   a window of a licence text                 -> the licence's short name
  topic     a window of a pydoc topic text              -> the topic's name
The tasks differ in size (thousands of functions, seven licences) and difficulty, so the
natural and the uniform task mixtures differ.
"""

from __future__ import annotations

import ast
import hashlib
from functools import lru_cache

import numpy as np

from tandem_ref.errors import BadInput, require_int

from .build import lm_problem, make
from .corpus import _stdlib_sources, licence_documents
from .problem import Pretrained
from .tokens import END, SPLITS, Split, TokenData

TASKS = ("fn_name", "summary", "licence", "topic")
_LICENCE_NAMES = (("PYTHON SOFTWARE FOUNDATION", "PSF-2.0"), ("BEOPEN", "BeOpen"), ("CNRI", "CNRI"),
                  ("CWI", "CWI"), ("ZERO-CLAUSE BSD", "0BSD"), ("pip", "MIT"), ("setuptools", "MIT"))


def _functions():
    """(qualified name, name, signature, first docstring line) of public documented stdlib functions."""
    out = []
    for path, src in _stdlib_sources():
        try:
            tree = ast.parse(src)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
                doc = ast.get_docstring(node)
                line = doc.strip().splitlines()[0].strip() if doc and doc.strip() else ""
                if 12 <= len(line) <= 48 and line.isascii():
                    sig = f"def {node.name}({ast.unparse(node.args)}):"
                    out.append((f"{path}:{node.lineno}", node.name, sig, line))
    return out


def _windows(text: bytes, width: int, stride: int):
    return [text[i:i + width] for i in range(0, max(1, len(text) - width + 1), stride)]


@lru_cache(maxsize=1)
def task_examples() -> dict[str, list[tuple[str, bytes, bytes]]]:
    """task -> [(source key, prompt, answer)]."""
    import pydoc_data.topics

    fns = _functions()
    tasks = {
        "fn_name": [(k, f"{line}\n=> def ".encode(), f"{name}\n".encode()) for k, name, _, line in fns],
        "summary": [(k, f"{sig[:40]}\n=> ".encode(), f"{line}\n".encode()) for k, _, sig, line in fns],
        "licence": [], "topic": [],
    }
    for title, text in licence_documents():
        label = next(short for key, short in _LICENCE_NAMES if key in title)
        tasks["licence"] += [(f"{title}/{i}", w + b"\n=> licence: ", f"{label}\n".encode())
                             for i, w in enumerate(_windows(text, 40, 12))]
    topics = pydoc_data.topics.topics
    for key in sorted(topics):
        text = topics[key].encode("utf-8")
        tasks["topic"] += [(f"{key}/{i}", w + b"\n=> topic: ", f"{key}\n".encode())
                           for i, w in enumerate(_windows(text, 40, 160)[:12])]
    return tasks


def _split_of(key: str) -> str:
    h = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % 20
    return "val" if h == 0 else "test" if h == 1 else "train"


def encode_examples(examples, seq_len: int) -> Split:
    """(prompt, answer) pairs -> sequences of seq_len + 1 tokens and the mask of answer targets;
    a prompt is cut from the left to fit (its end, next to the answer, is kept)."""
    n = len(examples)
    tokens = np.full((n, seq_len + 1), END, dtype=np.uint16)
    mask = np.zeros((n, seq_len), dtype=np.uint8)
    for r, (prompt, answer) in enumerate(examples):
        answer = answer[:seq_len // 2]
        prompt = prompt[-(seq_len + 1 - len(answer)):]
        seq = np.frombuffer(prompt + answer, dtype=np.uint8)
        tokens[r, :len(seq)] = seq
        mask[r, len(prompt) - 1:len(seq) - 1] = 1  # target t is token t + 1: the answer's bytes
    return Split(tokens, mask)


@lru_cache(maxsize=8)
def sft_data(seq_len: int = 64, tasks=TASKS, max_examples: int | None = None) -> TokenData:
    """The supervised tasks as TokenData (one domain per task). ``max_examples`` caps each task's
    training examples (the data-restricted SFT regime)."""
    every = task_examples()
    splits, h = {}, hashlib.sha256(f"sft/{seq_len}/{max_examples}".encode())
    for t in tasks:
        if t not in every:
            raise BadInput(f"tasks: unknown task {t!r} (known: {', '.join(TASKS)})")
        parts = {s: [] for s in SPLITS}
        for key, prompt, answer in every[t]:
            parts[_split_of(key)].append((prompt, answer))
            h.update(key.encode() + prompt + answer)
        if max_examples is not None:
            parts["train"] = parts["train"][:max_examples]
        for s in SPLITS:
            if not parts[s]:
                raise BadInput(f"task {t!r}: no example in its {s} split")
        splits[t] = {s: encode_examples(parts[s], seq_len) for s in SPLITS}
    return TokenData(tuple(tasks), splits, seq_len, h.hexdigest()[:16])


def sft_problem(seed: int = 0, *, seq_len: int = 64, tasks=TASKS, max_examples: int | None = None,
                pretrain_steps: int = 0, **settings):
    """The small GPT on 4 supervised tasks built from the embedded corpus (a mixture over tasks).

    Settings as bench.lm.build.make; ``max_examples`` caps each task's training examples;
    ``pretrain_steps`` > 0 starts every model (proxy, references, Stage Two) from a base model
    pre-trained that many steps on the embedded corpus (uniform over its domains, same seed), as
    the paper fine-tunes a pre-trained model; the pre-training is not charged to the mixers."""
    require_int("problem 'lm-sft': seq_len", seq_len, 2)
    require_int("problem 'lm-sft': pretrain_steps", pretrain_steps, 0)
    base = None
    if pretrain_steps:
        def base_params(s, p):  # pre-trained with the problem's own model and training settings
            c, t = p.trainer.config, p.trainer.train
            return _pretrained(s, int(pretrain_steps), c.n_layer, c.n_head, c.d_model, p.data.seq_len, p.batch_size,
                               t.lr, t.warmup, t.device, t.dtype)

        base = Pretrained(base_params, f"python-corpus/{pretrain_steps}")
    return make(sft_data(seq_len, tuple(tasks), max_examples), seed, base=base, **settings)


@lru_cache(maxsize=4)
def _pretrained(seed, steps, n_layer, n_head, d_model, seq_len, batch_size, lr, warmup, device, dtype):
    """Parameters of a model pre-trained ``steps`` steps on the embedded corpus (uniform mixture),
    with the setting's learning rate and warm-up."""
    from .model import GPTConfig

    p = lm_problem(seed, model=GPTConfig(n_layer, n_head, d_model, seq_len), seq_len=seq_len,
                   batch_size=batch_size, lr=lr, warmup=warmup, device=device, dtype=dtype)
    m = len(p.domains)
    return p.step(p.init_state(seed), np.full(m, 1.0 / m), steps).params
