"""An LM cell's key changes with its data: the problem's fingerprint holds the tokenized data's
fingerprint, so a changed corpus (one document edited, same domain names, sizes and settings)
never reuses a stale cell."""

from dataclasses import replace

from bench.lm.build import lm_problem
from bench.lm.corpus import Corpus

SETTINGS = dict(model="micro", seq_len=32, batch_size=6)


def _edited(corpus: Corpus) -> Corpus:
    d = corpus.domains[0]
    doc = d.docs[0]
    flipped = bytes([doc[0] ^ 1]) + doc[1:]  # one byte of one document, same length
    return Corpus((replace(d, docs=(flipped,) + d.docs[1:]),) + corpus.domains[1:], name=corpus.name)


def test_an_edited_document_changes_the_problem_fingerprint(toy_corpus):
    edited = _edited(toy_corpus)
    a, b = lm_problem(0, corpus=toy_corpus, **SETTINGS), lm_problem(0, corpus=edited, **SETTINGS)
    assert list(a.domains) == list(b.domains) and (a.sizes == b.sizes).all()
    assert a.data.fingerprint != b.data.fingerprint
    assert a.fingerprint() != b.fingerprint()
    assert a.fingerprint() == lm_problem(0, corpus=toy_corpus, **SETTINGS).fingerprint()  # and only then
