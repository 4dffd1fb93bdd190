import json

import numpy as np
import pytest
import torch

from bench.cli import main
from bench.lm import checkpoint
from bench.lm.build import lm_problem
from bench.lm.problem import LMProblem
from bench.lm.target import stage_two, target_run
from tandem_ref import BadInput, loop
from tandem_ref.problem import Problem
from tandem_ref.registry import get_method, method_names

FIVE = ["uniform", "natural", "doremi", "doge", "tandem"]


def same(a, b):
    everything = lambda s: s.params + s.exp_avg + s.exp_avg_sq  # noqa: E731
    return all(torch.equal(p, q) for p, q in zip(everything(a), everything(b)))


def test_is_a_problem(small_lm):
    assert isinstance(small_lm, Problem)
    assert small_lm.domains == ("letters", "digits", "upper")
    assert small_lm.sizes[0] > small_lm.sizes[2]


@pytest.mark.parametrize("name", FIVE)
def test_every_method_runs_unchanged(small_lm, name):
    assert name in method_names()
    tr = get_method(name).run(small_lm, 12, 0)
    assert tr.output.shape == (3,) and abs(tr.output.sum() - 1) < 1e-9 and np.all(tr.output >= 0)
    if name in ("doremi", "doge", "tandem"):
        assert len(tr.steps) > 0 and np.all(np.isfinite(tr.scores)) and tr.cost["tokens"] > 0
        again = get_method(name).run(small_lm, 12, 0)
        assert tr.equal(again)  # deterministic for a fixed seed


def test_twins_copied_from_one_proxy_read_the_same_batches(small_lm):
    a = np.array([0.5, 0.3, 0.2])
    u = small_lm.step(small_lm.init_state(1), a, 3)
    w = small_lm.copy(u)
    assert same(small_lm.step(u, a, 2), small_lm.step(w, a, 2))
    assert small_lm.distance(u, w) == 0.0 and np.all(small_lm.paired_losses(u, w).diff == 0)
    w2 = small_lm.step(w, a, 2, val_weight=1.0)  # the reference sees validation data too
    assert small_lm.distance(small_lm.step(u, a, 2), w2) > 0
    assert np.array_equal(small_lm.step(u, a, 2).cursor, w2.cursor)  # same training sequences


def test_excess_loss_is_clipped_per_token_on_the_proxys_next_batch(small_lm):
    """DoReMi's code takes lambda on the batch the proxy trains on (research/peer_rules.md 1): the rows
    of u's next reweighted step, token by token, clipped per token."""
    a = np.full(3, 1 / 3)
    u = small_lm.step(small_lm.init_state(0), a, 4)
    w = small_lm.step(small_lm.init_state(0), [0.0, 0.0, 1.0], 4)
    paired = small_lm.paired_losses(u, w, on_batch=True)
    clipped, raw = paired.excess, paired.diff
    assert np.all(clipped >= np.maximum(raw, 0) - 1e-12)  # mean of clipped tokens >= clip of the mean
    assert np.any(clipped > np.maximum(raw, 0) + 1e-6)  # and strictly somewhere: the clip is per token
    per, cursor = small_lm.batches.by_domain(u)
    assert np.array_equal(cursor, small_lm.step(u, a).cursor)  # exactly the rows u's step reads
    for i, (rows, _) in enumerate(per):
        lu = small_lm.trainer.token_losses(u.params, rows)
        lw = small_lm.trainer.token_losses(w.params, rows)
        assert clipped[i] == pytest.approx(float((lu - lw).clamp_min(0).double().mean()), rel=1e-9)
        assert raw[i] == pytest.approx(float((lu - lw).double().mean()), rel=1e-9)


def test_excess_loss_of_a_domain_absent_from_the_batch_is_nan_and_doremi_keeps_its_last(toy_corpus):
    from tandem_ref.registry import get_method

    p = lm_problem(0, corpus=toy_corpus, model="micro", seq_len=32, batch_size=2, warmup=2, eval_batch=3)
    u = p.init_state(0)
    lam = p.paired_losses(u, p.step(u, np.full(3, 1 / 3), 2), on_batch=True).excess
    assert np.isnan(lam).sum() == 1 and np.isfinite(lam).sum() == 2  # 2 rows, 3 domains
    tr = get_method("doremi", reference_steps=2).run(p, 4, 0)
    assert np.all(np.isfinite(tr.scores)) and np.all(np.isfinite(tr.output))


def test_domain_grads_match_autograd(small_lm):
    s = small_lm.step(small_lm.init_state(0), np.full(3, 1 / 3), 3)
    st = small_lm.domain_grads(s)
    assert st.align.shape == (3,) and np.all(st.norms > 0) and st.val_norm > 0
    # a domain's gradient dotted with itself is its squared norm: check through a one-hot val objective
    p = LMProblem(small_lm.data, model="micro", batch_size=6, eval_batch=3, val_weights="digits",
                  val_batch=3, train=small_lm.trainer.train)
    g = p.domain_grads(s)
    assert g.norms[1] == pytest.approx(st.norms[1], rel=1e-6)
    assert abs(g.align[1]) <= g.norms[1] * g.val_norm * (1 + 1e-9)


def test_sampled_mixture_consumes_data_by_weight(toy_corpus):
    p = lm_problem(0, corpus=toy_corpus, model="micro", seq_len=32, batch_size=6, mixing="sample",
                   train_tokens=32 * 4 + 1)
    s = p.step(p.init_state(0), [1.0, 0.0, 0.0], 5)
    assert list(s.cursor) == [30, 0, 0]
    reps = p.repetitions(s)
    assert reps["letters"] == 30 / 4 and reps["digits"] == 0
    r = lm_problem(0, corpus=toy_corpus, model="micro", seq_len=32, batch_size=6)
    assert list(r.step(r.init_state(0), [1.0, 0.0, 0.0], 5).cursor) == [10, 10, 10]  # reweight: stratified


def test_stage_two_target_run(small_lm):
    res = target_run(small_lm, [0.6, 0.2, 0.2], 20, seed=0)
    assert set(res["ppl"]) == {"letters", "digits", "upper"}
    assert res["avg_ppl"] == pytest.approx(np.mean(list(res["ppl"].values())))
    assert res["cost"]["tokens"] == 20 * 6 * 32 and small_lm.cost.tokens == 0  # not charged to the mixer
    assert sum(res["repetitions"].values()) > 0
    ft = target_run(small_lm, [0.6, 0.2, 0.2], 20, seed=0, finetune=("upper", 10))
    assert ft["loss"]["upper"] < res["loss"]["upper"]
    again = target_run(small_lm, [0.6, 0.2, 0.2], 20, seed=0)
    assert again["loss"] == res["loss"]


@pytest.mark.parametrize("name, params", [("tandem", {}), ("doremi", {}), ("doge", {"signal": "lookahead"})])
def test_killed_and_resumed_run_is_bitwise_identical(toy_corpus, tmp_path, name, params):
    make = lambda: lm_problem(0, corpus=toy_corpus, model="micro", seq_len=32, batch_size=6, warmup=2)  # noqa: E731
    method = get_method(name, **params)
    p = make()
    full = method.advance(p, method.start(p, 30, 7))
    ref = method.trace(p, full)
    # stop part-way, save, forget everything, resume in a fresh problem object
    p1 = make()
    st = method.advance(p1, method.start(p1, 30, 7), stop_after=3)
    loop.save_state(p1, st, tmp_path / "ck.npz")
    del p1, st
    p2 = make()
    resumed = method.advance(p2, loop.load_state(p2, tmp_path / "ck.npz"))
    assert method.trace(p2, resumed).equal(ref)
    assert same(resumed.proxy, full.proxy) and np.array_equal(resumed.proxy.cursor, full.proxy.cursor)
    assert p2.evaluate(resumed.proxy)["loss"] == p.evaluate(full.proxy)["loss"]


def test_checkpoint_run_resumes_and_refuses_another_run(toy_corpus, tmp_path):
    from tandem_ref.errors import BadInput

    p = lm_problem(0, corpus=toy_corpus, model="micro", seq_len=32, batch_size=6, warmup=2)
    m = get_method("tandem", eta_alpha=1.0)
    path = tmp_path / "run.npz"
    ref = m.run(p, 20, 1)
    first, proxy = checkpoint.run(m, p, 20, 1, path=path, every=1)
    assert first.equal(ref) and path.exists() and proxy.step == 20
    # a "killed" run: the checkpoint of an earlier update is on disk; resuming finishes identically
    st = m.advance(p, m.start(p, 20, 1), stop_after=2)
    loop.save_state(p, st, path)
    assert checkpoint.run(m, p, 20, 1, path=path, every=1)[0].equal(ref)
    with pytest.raises(BadInput, match="another run"):
        checkpoint.run(get_method("tandem", eta_alpha=2.0), p, 20, 1, path=path, every=1)
    z = np.load(path, allow_pickle=False)  # weights load without pickle
    assert any(k.startswith("proxy/param/") for k in z.files) and any("exp_avg_sq" in k for k in z.files)
    # a writer SIGKILLed between its write and its rename leaves a temporary named for its target:
    # the next run of that checkpoint removes it (another file's temporaries are not its business)
    stale = [tmp_path / ".tmp-run.npz-k1ll3d", tmp_path / ".tmp-run.npz.json-x"]
    other = tmp_path / ".tmp-other.npz-abc"
    for f in stale + [other]:
        f.write_bytes(b"partial")
    assert checkpoint.run(m, p, 20, 1, path=path, every=1)[0].equal(ref)
    assert not any(f.exists() for f in stale) and other.exists()
    assert not [f for f in tmp_path.iterdir() if f.name.startswith(".tmp-run.npz")]


def test_mix_on_a_user_folder_and_a_jsonl_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for name, alphabet in (("prose", "abcde fgh\n"), ("numbers", "0123456789 ,\n")):
        (tmp_path / name).mkdir()
        for i in range(6):
            (tmp_path / name / f"{i}.txt").write_text("".join(rng.choice(list(alphabet), 300)))
    common = ["--model", "micro", "--seq-len", "32", "--batch-size", "4", "--budget", "10", "--quiet",
              "--threads", "1"]
    out = tmp_path / "w.json"
    assert main(["mix", "--data", str(tmp_path / "prose"), str(tmp_path / "numbers"), "--method", "tandem",
                 "--param", "eta_alpha=0.5", "--out", str(out), *common]) == 0
    res = json.loads(out.read_text())
    assert set(res["weights"]) == {"prose", "numbers"} and abs(sum(res["weights"].values()) - 1) < 1e-9
    assert res["params"]["eta_alpha"] == 0.5 and len(res["trajectory"]) == 2
    assert set(res["repetitions"]) == {"prose", "numbers"} and min(res["repetitions"].values()) > 0
    assert res["cost"]["tokens"] > 0 and res["cost"]["wall_s"] > 0 and res["cost"]["flops"] > 0
    lines = [json.dumps({"text": "".join(rng.choice(list("xyz \n"), 200)), "meta": {"redpajama_set_name": f"S{i % 3}"}})
             for i in range(24)]
    (tmp_path / "d.jsonl").write_text("\n".join(lines) + "\n")
    out2 = tmp_path / "w2.json"
    assert main(["mix", "--data", str(tmp_path / "d.jsonl"), "--method", "doremi", "--out", str(out2),
                 "--target-steps", "5", *common]) == 0
    res2 = json.loads(out2.read_text())
    assert set(res2["weights"]) == {"S0", "S1", "S2"} and "avg_ppl" in res2["stage_two"]


def test_a_pure_validation_step_in_both_mixing_modes(toy_corpus):
    for mixing in ("reweight", "sample"):
        p = lm_problem(0, corpus=toy_corpus, model="micro", seq_len=32, batch_size=6, mixing=mixing)
        s = p.init_state(0)
        w = p.step(s, np.zeros(3), 1, val_weight=1.0)  # DoGE's look-ahead: L_val only
        assert p.distance(s, w) > 0 and np.all(np.isfinite(p.train_losses(w)))
    tr = get_method("doge", signal="lookahead").run(p, 6, 0)
    assert np.all(np.isfinite(tr.output))


def test_mix_is_equivariant_to_the_order_of_the_domains(tmp_path):
    """The same three folders in two orders get the same weight per domain: every random stream is
    keyed by the domain's name, never by its position (it once read other sequences when the order
    changed, and weights moved by 2e-3). What is left is the order of floating-point sums over
    domains, far below the printed precision."""
    rng = np.random.default_rng(3)
    for name, alphabet in (("a", "abc \n"), ("b", "0123 ,\n"), ("c", "xyz.;\n")):
        (tmp_path / name).mkdir()
        for i in range(6):
            (tmp_path / name / f"{i}.txt").write_text("".join(rng.choice(list(alphabet), 300)))
    common = ["--model", "micro", "--seq-len", "32", "--batch-size", "6", "--budget", "30", "--quiet",
              "--threads", "1", "--method", "tandem", "--param", "eta_alpha=0.5"]
    weights = []
    for order in ("abc", "cab"):
        out = tmp_path / f"{order}.json"
        assert main(["mix", "--data", *[str(tmp_path / n) for n in order], "--out", str(out), *common]) == 0
        weights.append(json.loads(out.read_text())["weights"])
    assert set(weights[0]) == set(weights[1]) == {"a", "b", "c"}
    moved = max(abs(weights[0][d] - 1 / 3) for d in "abc")
    assert moved > 1e-3  # the mixture moved, so the comparison means something
    for d in "abc":
        assert abs(weights[0][d] - weights[1][d]) < 1e-6, (d, weights)


def test_systematic_counts_hold_every_share_at_every_prefix():
    """Weyl-sequence sampling: every step fills the batch; after n slots each domain has n alpha_i
    sequences to within the golden-ratio rotation's discrepancy bound, far inside the multinomial's
    sqrt(n alpha (1 - alpha)) (the point of using it: no sampling noise between paired mixtures)."""
    from bench.lm.batches import systematic_counts

    alpha = np.array([0.5, 0.3, 0.15, 0.04, 0.01])
    B, steps = 16, 800
    c = np.array([systematic_counts(alpha, 3, t, B) for t in range(steps)])
    assert (c.sum(1) == B).all() and (c >= 0).all()
    cum = c.cumsum(0)
    n = B * np.arange(1, steps + 1)[:, None]
    # Three-distance theorem: for phi = golden ratio the discrepancy of n points is below
    # (log n) / (log golden) / n + 3/n roughly; 4 + log(n) is a safe, theory-shaped bound
    assert np.abs(cum - n * alpha).max() <= 4 + np.log(B * steps)
    # a function of (mixture, seed, step): the same counts again, other counts under another seed
    assert (systematic_counts(alpha, 3, 17, B) == c[17]).all()
    assert any((systematic_counts(alpha, 4, t, B) != c[t]).any() for t in range(10))
    # a zero weight is never drawn
    z = np.array([0.5, 0.5, 0.0])
    assert all(systematic_counts(z, 0, t, B)[2] == 0 for t in range(50))


def test_systematic_slots_are_shared_where_mixtures_agree():
    """Common random numbers: two mixtures with one seed put a slot in the same domain unless the
    slot's u falls between their cumulative boundaries, so the fraction of slots that move is the
    l1 distance between the cumulative mixtures (here 0.05 + 0.05 = 0.1 of the slots)."""
    from bench.lm.batches import systematic_counts

    a, b = np.array([0.4, 0.3, 0.3]), np.array([0.35, 0.35, 0.3])
    ca = np.array([systematic_counts(a, 0, t, 16) for t in range(400)])
    cb = np.array([systematic_counts(b, 0, t, 16) for t in range(400)])
    assert (ca[:, 2] == cb[:, 2]).mean() == 1.0  # the last interval is the same in both
    assert abs(np.abs(ca - cb).sum() / 2 / (16 * 400) - 0.05) < 0.01


def test_stage_two_is_systematic_by_default_and_sample_on_request(toy_corpus):
    kw = dict(corpus=toy_corpus, model="micro", seq_len=32, batch_size=6, stage_two_steps=4)
    p, q = lm_problem(0, **kw), lm_problem(0, stage_two_sampling="sample", **kw)
    assert p.stage.sampling == "systematic" and q.stage.sampling == "sample"
    a = np.array([0.5, 0.3, 0.2])
    assert stage_two(p, a)["loss"] != stage_two(q, a)["loss"]
    with pytest.raises(BadInput, match="stage_two_sampling"):
        lm_problem(0, stage_two_sampling="multinomial", **kw)


def test_an_offline_method_checkpoints_and_resumes_too(toy_corpus, tmp_path):
    """`mix --checkpoint` with a probe method writes its probes after each one and resumes from them."""
    p = lm_problem(0, corpus=toy_corpus, model="micro", seq_len=32, batch_size=6, warmup=2)
    m = get_method("random-search", probes=3)
    path = tmp_path / "rs.npz"
    ref = m.run(p, 4, 1)
    st = m.advance(p, m.start(p, 4, 1), stop_after=1)
    m.save(p, st, path)
    (tmp_path / "rs.npz.json").write_text(json.dumps(checkpoint._identity(m, p, 4, 1), default=str))
    tr, proxy = checkpoint.run(m, p, 4, 1, path=path, every=1)
    assert tr.equal(ref) and proxy is None and m.load(p, path).n_done == 3
