"""The LM settings as the harness sees them: the problem registry, the Stage-Two scorer, the SFT
tasks, the suites of bench/suites/lm-*.toml, and the LM tables and verdicts."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from bench.evidence.report import perplexity_table
from bench.evidence.verdicts import claim_rows, paired
from bench.lm.build import lm_problem
from bench.lm.sft import TASKS, encode_examples, sft_data, sft_problem
from bench.lm.target import stage_two, stage_two_scorer
from tandem_ref.errors import BadInput
from tandem_ref.registry import get_method


def _lm_suites() -> list[str]:
    """Every shipped suite that trains the small LM (a problem of the "lm" family: "lm", "lm-sft"), read
    from the suites folder, so a new LM suite is tested here without editing this file."""
    from bench.suites import load, suite_names

    return [n for n in suite_names()
            if any(str(c.get("problem", "")).startswith("lm") for c in load(n).problems.values())]


LM_SUITES = _lm_suites()


def test_the_lm_suite_list_is_read_from_the_suites_folder():
    from bench.evidence.claims import LM_CLAIMS

    assert {"lm-abundant", "lm-restricted", "lm-multistage", "lm-sft"} <= set(LM_SUITES)
    assert {c.suite for c in LM_CLAIMS.values()} <= set(LM_SUITES)  # every suite an LM claim is decided by is tested


def test_sft_tasks_mask_only_the_answer():
    s = encode_examples([(b"question text\n=> ", b"ans\n"), (b"x" * 200, b"long answer\n")], 32)
    row, mask = s.tokens[0], s.mask[0]
    assert bytes(row[1:][mask == 1].astype(np.uint8)) == b"ans\n"
    assert bytes(s.tokens[1][1:][s.mask[1] == 1].astype(np.uint8)) == b"long answer\n"  # prompt cut from the left
    assert s.n_tokens == 4 + 12
    data = sft_data(64)
    assert data.domains == TASKS and len(TASKS) >= 4
    sizes = data.sizes()
    assert sizes.max() / sizes.min() > 5  # natural and uniform task mixtures differ
    for t in TASKS:
        assert all(len(data[t][s]) > 0 for s in ("train", "val", "test"))


def test_sft_problem_reports_accuracy():
    p = sft_problem(0, model="micro", batch_size=4, stage_two_steps=5, eval_seqs=8)
    res = stage_two(p, np.full(len(TASKS), 1 / len(TASKS)))
    assert set(res["acc"]) == set(TASKS) and 0 <= res["avg_acc"] <= 1
    assert all(np.isfinite(v) for v in res["loss"].values())


def test_sft_starts_from_a_pretrained_base():
    import torch

    kw = dict(model="micro", batch_size=4, stage_two_steps=3, eval_seqs=4)
    scratch = sft_problem(0, **kw)
    based = sft_problem(0, pretrain_steps=3, **kw)
    s0, s1 = scratch.init_state(0), based.init_state(0)
    assert not torch.equal(s0.params[0], s1.params[0]) and s1.step == 0 and not s1.exp_avg[0].any()
    assert torch.equal(based.init_state(0).params[0], s1.params[0])  # the same base for every model of a seed
    assert based.fingerprint() != scratch.fingerprint()
    assert based.cost.grad_steps == 0  # the base's pre-training is not the mixer's cost
    assert stage_two(based, np.full(len(TASKS), 1 / len(TASKS)))["loss"] != \
        stage_two(scratch, np.full(len(TASKS), 1 / len(TASKS)))["loss"]


def test_multistage_target_outside_the_mixture(embedded):
    p = lm_problem(0, domains=["code", "docstrings"], val_weights="reference", model="micro", seq_len=32,
                   batch_size=4, stage_two_steps=4, finetune_steps=3)
    assert p.domains == ("code", "docstrings") and p.val_domains == ("reference",)
    assert "reference" in stage_two(p, [0.5, 0.5])["loss"]
    with pytest.raises(BadInput, match="fine-tunes on one domain"):
        lm_problem(0, domains=["code", "docstrings"], model="micro", seq_len=32, finetune_steps=3)
    # stage-unaware: the mixer validates on its own domains, Stage Two still fine-tunes on the target
    u = lm_problem(0, domains=["code", "docstrings"], finetune_domain="reference", model="micro", seq_len=32,
                   batch_size=4, stage_two_steps=4, finetune_steps=3)
    assert u.val_domains == ("code", "docstrings") and u.stage.finetune_domain == "reference"
    a, b = stage_two(u, [0.5, 0.5]), stage_two(p, [0.5, 0.5])
    assert a["loss"]["reference"] == b["loss"]["reference"]  # one target run: same seed, data, fine-tuning


def test_stage_two_scorer_scores_final_mixtures_once(small_lm, toy_corpus, monkeypatch):
    import bench.lm.target as target

    with pytest.raises(BadInput, match="stage_two_steps"):
        stage_two_scorer(small_lm)
    p = lm_problem(0, corpus=toy_corpus, model="micro", seq_len=32, batch_size=6, warmup=2, eval_batch=3,
                   stage_two_steps=4)
    runs = []
    real = target.stage_two
    monkeypatch.setattr(target, "stage_two", lambda *a: runs.append(1) or real(*a))
    score = stage_two_scorer(p)
    assert score.final_only
    a = score([0.5, 0.25, 0.25])
    assert {"avg_ppl", "ppl.letters", "loss.upper", "repetitions.digits"} <= set(a)
    assert score(np.array([0.5, 0.25, 0.25])) == a and runs == [1]  # memoised: one target run


@pytest.mark.parametrize("name", LM_SUITES)
def test_lm_suites_plan_every_cell(name):
    from bench.runner import plan
    from bench.suites import load

    suite = load(name)
    if "scale" in suite.profiles:  # a model-size ladder: its tuning and grid planned at every size
        from bench.lm.model import GPT, config

        cells = plan(suite, "scale")
        sizes = {c.cell.problem_params["model"] for c in cells}
        counts = sorted(GPT(config(s, seq_len=64)).n_params() for s in sizes)
        assert len(sizes) >= 4 and counts[-1] / counts[0] >= 32  # issue 22: four sizes spanning 32x
        assert {c.cell.method for c in cells} >= {"tandem", "fixed"}
        assert all(c.cell.score == "lm-target" for c in cells) and len({c.key for c in cells}) == len(cells)
        return
    for profile in ("quick", "full"):
        cells = plan(suite, profile)
        methods = {c.cell.method for c in cells}
        assert {"uniform", "natural", "doremi", "doge", "tandem"} <= methods
        seeds = {c.cell.seed for c in cells}
        assert len(seeds) >= 3 and all(c.cell.score == "lm-target" for c in cells)
        assert len({c.key for c in cells}) == len(cells)


def test_a_small_lm_suite_runs_through_the_harness(tmp_path):
    """The runner, the scorer and the LM tables end to end on a micro suite (3 seeds, paired)."""
    suite = tmp_path / "lm-micro.toml"
    suite.write_text("""
description = "micro LM suite for the tests"
profiles = ["quick"]
[problems.micro]
problem = "lm"
domains = ["licences", "reference", "c_headers"]
model = "micro"
seq_len = 32
batch_size = 6
stage_two_steps = 10
eval_seqs = 8
threads = 1
[[study]]
name = "lm-restricted"
problems = ["micro"]
methods = ["uniform", "natural", "tandem"]
seeds = 3
budget = 10
log_points = 2
score = "lm-target"
""")
    from bench.cli import main

    out = tmp_path / "out"
    assert main(["run", str(suite), "--profile", "quick", "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    table = pd.read_parquet(next(out.rglob("results.parquet")))
    fin = table[table["final"] == True]  # noqa: E712
    assert len(fin) == 9 and fin["avg_ppl"].notna().all() and (fin["status"] == "ok").all()
    rows = table[(table["final"] == False) & (table["method"] == "tandem")]  # noqa: E712
    assert len(rows) > 0 and ("avg_ppl" not in rows or rows["avg_ppl"].isna().all())  # final_only
    header, body = perplexity_table(table)
    assert "avg ppl" in header and len(body) == 3
    d = paired(fin, "avg_loss", "tandem")
    assert len(d) == 3 and np.all(np.isfinite(d))
    from bench.tabulate import CLAIM_COLUMNS

    verdicts = claim_rows("lm-restricted", table)
    assert len(verdicts) == 2 and all(len(r) == len(CLAIM_COLUMNS) for r in verdicts)
    row = dict(zip(CLAIM_COLUMNS, verdicts[0]))
    # a quick-profile suite is a smoke run: its verdicts say so, and an undecided one prints its MDE
    word = row["verdict"].removeprefix("smoke run: ").split(" (")[0]
    assert row["verdict"].startswith("smoke run: ") and word in ("holds", "contradicted", "inconclusive")
    assert row["setting"].endswith("tandem vs uniform")


def test_mix_killed_and_rerun_gives_the_uninterrupted_weights(tmp_path):
    rng = np.random.default_rng(1)
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
        for i in range(5):
            (tmp_path / name / f"{i}.txt").write_text("".join(rng.choice(list(name + "xyz \n"), 400)))
    data = [str(tmp_path / n) for n in "abc"]
    common = ["-m", "bench.cli", "mix", "--data", *data, "--method", "tandem", "--model", "micro", "--seq-len", "32",
              "--batch-size", "4", "--budget", "400", "--threads", "1", "--quiet"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    ref = tmp_path / "ref.json"
    subprocess.run([sys.executable, *common, "--out", str(ref)], check=True, env=env, timeout=300)
    ck = tmp_path / "ck.npz"
    out = tmp_path / "resumed.json"
    cmd = [sys.executable, *common, "--out", str(out), "--checkpoint", str(ck), "--checkpoint-every", "5"]
    proc = subprocess.Popen(cmd, env=env)
    deadline = time.time() + 120
    while not ck.exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)  # killed mid-run
    proc.wait()
    assert ck.exists() and not out.exists()
    subprocess.run(cmd, check=True, env=env, timeout=300)
    a, b = json.loads(ref.read_text()), json.loads(out.read_text())
    assert a["weights"] == b["weights"] and a["trajectory"] == b["trajectory"]
    for k in ("tokens", "flops", "grad_steps", "forward_evals"):
        assert a["cost"][k] == b["cost"][k]


def test_tandem_moves_the_mixture_on_the_lm(small_lm):
    tr = get_method("tandem", eta_alpha=5.0).run(small_lm, 30, 0)
    assert np.abs(tr.output - 1 / 3).max() > 1e-3 and np.all(np.isfinite(tr.scores))
