"""DoGE on the LM as its code computes it: per-domain gradients on the proxy's next training batch
(batched, equal to the naive one-backward-per-domain path), and the proxy's step from those same
gradients (equal to an ordinary reweighted step)."""

import numpy as np
import pytest
import torch

from tandem_ref.registry import get_method


def test_fast_domain_grads_equal_naive(small_lm):
    st = small_lm.step(small_lm.init_state(0), np.full(3, 1 / 3), 3)  # away from the initialisation
    fast, naive = small_lm.batched_domain_grads(st), small_lm.naive_domain_grads(st)
    # float32 arithmetic in a different order (batched kernels): relative agreement to ~1e-6, so
    # 1e-5 of the largest value is tight while leaving room for summation order
    for a, b in ((fast.align, naive.align), (fast.norms, naive.norms)):
        assert np.allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(b).max())
    assert fast.val_norm == naive.val_norm  # the same single backward


def test_fast_domain_grads_equal_naive_in_float64(small_lm):
    st = small_lm.init_state(1)
    st.params = [p.double() for p in st.params]
    small_lm.trainer.module.double()
    try:
        fast, naive = small_lm.batched_domain_grads(st), small_lm.naive_domain_grads(st)
    finally:
        small_lm.trainer.module.float()
    # both paths round each float64 gradient to float32 (``flat``) before the products, so they
    # agree to float32 rounding of values that agree to ~1e-15 before it
    assert np.allclose(fast.align, naive.align, rtol=1e-6, atol=1e-9)
    assert np.allclose(fast.norms, naive.norms, rtol=1e-6, atol=1e-9)


def test_doge_runs_on_the_fast_path(small_lm):
    tr = get_method("doge").run(small_lm, 6, 0)
    assert np.all(np.isfinite(tr.output)) and tr.equal(get_method("doge").run(small_lm, 6, 0))


def test_doge_scales_by_the_scheduled_rate_during_warm_up(small_lm):
    """DoGE's code scales W by ``lr_scheduler.get_last_lr()``: at step t of a linear warm-up over 2
    steps that is lr (t + 1) / 2, not lr. One update from uniform, computed by hand from the same
    gradient statistics, with the clip [0, 5 eta_t] and the norm clip inactive."""
    from tandem_ref.simplex import mirror_step, uniform

    assert small_lm.trainer.train.warmup == 2
    st = small_lm.init_state(0)
    eta0 = small_lm.lr_at(st)
    assert eta0 == small_lm.lr / 2  # the first warm-up step
    g = small_lm.domain_grads(st)
    W = np.clip(eta0 * g.align / (g.norms.mean() + 1e-6), 0, 5 * eta0)
    tr = get_method("doge", mu=0.05, max_grad_norm=None).run(small_lm, 1, 0)
    np.testing.assert_allclose(tr.alpha[0], mirror_step(uniform(3), W, 1 / 0.05), rtol=1e-9)
    # with the base rate (the old rule) the step would be twice as large in W: it must differ
    W_base = np.clip(small_lm.lr * g.align / (g.norms.mean() + 1e-6), 0, 5 * small_lm.lr)
    assert not np.allclose(tr.alpha[0], mirror_step(uniform(3), W_base, 1 / 0.05), rtol=1e-6)


def _params_close(a, b, lr, frac):
    """Parameters equal to ``frac`` of one step's size. AdamW moves each entry by about lr * m / sqrt(v);
    an entry whose gradient is zero up to rounding (the attention key's bias, which the softmax
    ignores) moves by up to lr * |g| / eps, so rounding-level differences show there at ~1e-4 lr."""
    return all(torch.allclose(x, y, rtol=0, atol=frac * lr) for x, y in zip(a.params, b.params))


def test_the_step_from_the_per_domain_gradients_is_the_reweighted_step(small_lm):
    """sum_i alpha_i g_i, with g_i the gradient of domain i's mean token loss on its rows of the
    batch, is the gradient of the reweighted loss sum_i alpha_i L_i on the whole batch: the step
    DoGE's code takes equals ``step`` (same rows, same data position), to float32 summation order."""
    st = small_lm.step(small_lm.init_state(0), np.full(3, 1 / 3), 3)
    a = np.array([0.5, 0.3, 0.2])
    plain = small_lm.step(st, a)
    for stats in (small_lm.batched_domain_grads(st), small_lm.naive_domain_grads(st)):
        nxt = stats.step(a)
        assert nxt.step == plain.step and np.array_equal(nxt.cursor, plain.cursor)
        assert _params_close(nxt, plain, small_lm.lr, 1e-3)
        assert not _params_close(stats.step(np.array([0.2, 0.3, 0.5])), plain, small_lm.lr, 0.1)  # weights matter
    assert st.step == 3  # the state the statistics were taken at is untouched


def test_doge_charges_one_step_and_one_validation_backward(small_lm):
    """A DoGE update costs the proxy's step (its backward, batched over domains) plus the validation
    backward: one gradient step per update, as a plain run, and one validation gradient."""
    m = get_method("doge")
    tr = m.run(small_lm, 6, 0)
    assert tr.cost["grad_steps"] == 6 and tr.cost["forward_evals"] == 6
    rows = small_lm.batch_size * 6 + small_lm.val_batch * len(small_lm.val_domains) * 6
    assert tr.cost["flops"] == pytest.approx(6.0 * small_lm.trainer.n_params * rows * small_lm.data.seq_len)


def test_doge_clips_each_domain_gradient_in_the_proxy_step_too(small_lm):
    """DoGE's code steps on sum_i alpha_i clip(g_i): with a norm clip below every gradient's norm,
    the step is the clipped combination, not the reweighted step."""
    st = small_lm.step(small_lm.init_state(0), np.full(3, 1 / 3), 3)
    stats = small_lm.domain_grads(st)
    c = 0.5 * float(stats.norms.min())
    a = np.array([0.5, 0.3, 0.2])
    want = stats.step(a * np.minimum(1.0, c / stats.norms))
    from tandem_ref.signals import GradAlignment

    class Ctx:  # what the signal reads from the loop's context
        problem, proxy, rng, memory = small_lm, st, None, {}

    _, info = GradAlignment(max_grad_norm=c)(Ctx)
    assert _params_close(info["proxy_step"](a, None), want, small_lm.lr, 1e-6)
    assert not _params_close(want, small_lm.step(st, a), small_lm.lr, 0.1)


def test_domain_grads_batches_the_domains_only_from_batched_from_on(small_lm, monkeypatch):
    import bench.lm.alignment as al
    import bench.lm.problem as lmp

    calls = []
    real = al.per_domain_gradients
    monkeypatch.setattr(al, "per_domain_gradients", lambda *a: calls.append(1) or real(*a))
    st = small_lm.init_state(0)
    small_lm.domain_grads(st)
    assert not calls  # 3 domains: one backward per domain
    monkeypatch.setattr(lmp, "BATCHED_FROM", 3)
    small_lm.domain_grads(st)
    assert calls == [1]
