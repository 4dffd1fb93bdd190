import numpy as np
import pytest
import torch

from bench.lm.build import lm_problem
from bench.lm.corpus import Corpus, Domain, embedded_corpus


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)  # the shared 2-core machines; results do not depend on it


def make_docs(rng, n, size, alphabet):
    return tuple(bytes(rng.choice(alphabet, size=size)) for _ in range(n))


@pytest.fixture(scope="session")
def toy_corpus():
    """Three synthetic domains of different styles and sizes (fast, independent of the installation)."""
    rng = np.random.default_rng(0)
    letters = np.frombuffer(b"abcdefgh \n", dtype=np.uint8)
    digits = np.frombuffer(b"0123456789,\n", dtype=np.uint8)
    upper = np.frombuffer(b"XYZ ", dtype=np.uint8)
    return Corpus((Domain("letters", make_docs(rng, 40, 400, letters), "toy"),
                   Domain("digits", make_docs(rng, 20, 300, digits), "toy"),
                   Domain("upper", make_docs(rng, 12, 200, upper), "toy")))


@pytest.fixture(scope="session")
def embedded():
    return embedded_corpus()


@pytest.fixture
def small_lm(toy_corpus):
    """A micro GPT on the toy corpus: a Problem that trains in milliseconds per step."""
    return lm_problem(0, corpus=toy_corpus, model="micro", seq_len=32, batch_size=6, warmup=2, eval_batch=3)
