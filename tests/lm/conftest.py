import golden_lm
import pytest
import torch

from bench.lm.build import lm_problem
from bench.lm.corpus import embedded_corpus


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)  # the shared 2-core machines; results do not depend on it


@pytest.fixture(scope="session")
def toy_corpus():
    """Three synthetic domains of different styles and sizes (fast, independent of the installation);
    the corpus the LM golden numbers are pinned on (golden_lm.toy_corpus)."""
    return golden_lm.toy_corpus()


@pytest.fixture(scope="session")
def embedded():
    return embedded_corpus()


@pytest.fixture
def small_lm(toy_corpus):
    """A micro GPT on the toy corpus: a Problem that trains in milliseconds per step."""
    return lm_problem(0, corpus=toy_corpus, model="micro", seq_len=32, batch_size=6, warmup=2, eval_batch=3)
