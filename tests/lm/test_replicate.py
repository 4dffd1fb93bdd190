"""The kernel-path replicate (bench/evidence/replicate.py): it re-runs a deciding suite's reported cells
under the same keys and compares the claim rows; the comparison says when verdicts differ."""

import json

import pytest

from bench import results
from bench.evidence import replicate
from bench.runner import sweep
from bench.suites import load

SUITE = """
description = "a micro deciding run"
profiles = ["lm"]

[problems.p]
problem = "lm"
corpus = {corpus}
model = "micro"
seq_len = 32
batch_size = 6
eval_batch = 3
eval_seqs = 8
stage_two_steps = 12
curve_every = 4
train_tokens = {{upper = 600}}

[methods.tandem]
method = "tandem"
update = "mirror"
signal_ema = 0.8
eta_alpha = 3.0

[[study]]
name = "lm-restricted"
problems = ["p"]
methods = ["uniform", "natural", "tandem"]
seeds = 3
budget = 10
score = "lm-target"
"""


@pytest.fixture
def first_run(tmp_path, toy_corpus):
    folder = tmp_path / "corpus"
    for d in toy_corpus.domains:
        (folder / d.name).mkdir(parents=True)
        for i, doc in enumerate(d.docs):
            (folder / d.name / f"{i}.txt").write_bytes(doc)
    corpus = json.dumps([str(folder / d.name) for d in toy_corpus.domains])
    path = tmp_path / "lm-restricted.toml"
    path.write_text(SUITE.format(corpus=corpus))
    sweep(load(str(path)), "lm", tmp_path / "results", jobs=1, progress=False)
    return tmp_path / "results"


def test_replicate_reruns_the_reported_cells_and_compares(first_run, tmp_path):
    out = tmp_path / "kernel-path"
    counts = replicate.run("lm-restricted", first_run, out, ["uniform", "tandem"], jobs=1)
    assert counts == {"cells": 6, "computed": 6, "missing": 0}
    # the same process and kernels: the same bits, so every verdict and interval agree
    a = results.read_table(first_run / "lm-restricted@lm")
    b = results.read_table(out / "lm-restricted@lm")
    fa = a[a["final"] & a["method_name"].isin(["uniform", "tandem"])].set_index("key")["avg_loss"].sort_index()
    fb = b[b["final"]].set_index("key")["avg_loss"].sort_index()
    assert fa.equals(fb)
    doc, agree = replicate.compare(first_run, out)
    assert agree and "| lm-restricted: tandem vs uniform |" in doc and "**no**" not in doc
    assert "tandem vs natural" not in doc  # only the replicated methods are compared
    # a replicate whose TANDEM runs came out far worse must be reported as a different verdict
    for f in (out / "lm-restricted@lm" / "cells").glob("*.json"):
        rec = json.loads(f.read_text())
        if rec["cell"]["method"] == "tandem":
            for row in rec["rows"]:
                if row.get("final"):
                    row["avg_loss"] += 5.0 + 0.1 * rec["cell"]["seed"]
            f.write_text(json.dumps(rec))
    doc, agree = replicate.compare(first_run, out)
    assert not agree and "**no**" in doc
    assert "lies outside the first run's interval in 1 of 1 rows" in doc  # said, not assumed


def test_a_fresh_reproduction_is_compared_whole(first_run, tmp_path):
    """A suite reproduced from scratch (another CPU, tuning included) has no ``replicate_of``: every
    reported row is compared, not only the cells of a replicate's keys."""
    path = tmp_path / "lm-restricted.toml"
    sweep(load(str(path)), "lm", tmp_path / "again", jobs=1, progress=False)
    doc, agree = replicate.compare(first_run, tmp_path / "again")
    assert agree and doc.startswith("# Verdicts on another CPU") and "reproduced from scratch" in doc
    assert "| lm-restricted: tandem vs uniform |" in doc and "| lm-restricted: tandem vs natural |" in doc
    assert "identical in 3 of 3 rows." in doc  # same process, same bits


def test_replicate_refuses_what_it_cannot_do(tmp_path, capsys):
    assert replicate.main(["run", "lm-restricted", "--from", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "no deciding-profile results" in capsys.readouterr().err
    assert replicate.main(["compare", "--from", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()
