"""The batched per-domain gradients DoGE's alignment uses equal the naive one-backward-per-domain path."""

import numpy as np

from tandem_ref.registry import get_method


def test_fast_grad_stats_equal_naive(small_lm):
    st = small_lm.step(small_lm.init_state(0), np.full(3, 1 / 3), 3)  # away from the initialisation
    fast, naive = small_lm.grad_stats(st), small_lm.naive_grad_stats(st)
    # float32 arithmetic in a different order (batched kernels): relative agreement to ~1e-6, so
    # 1e-5 of the largest value is tight while leaving room for summation order
    for a, b in ((fast.align, naive.align), (fast.norms, naive.norms)):
        assert np.allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(b).max())
    assert fast.val_norm == naive.val_norm  # the same single backward


def test_fast_grad_stats_equal_naive_in_float64(small_lm):
    st = small_lm.init_state(1)
    st.params = [p.double() for p in st.params]
    small_lm.trainer.module.double()
    try:
        fast, naive = small_lm.grad_stats(st), small_lm.naive_grad_stats(st)
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
    g = small_lm.grad_stats(st)
    W = np.clip(eta0 * g.align / (g.norms.mean() + 1e-6), 0, 5 * eta0)
    tr = get_method("doge", mu=0.05, max_grad_norm=None).run(small_lm, 1, 0)
    np.testing.assert_allclose(tr.alpha[0], mirror_step(uniform(3), W, 1 / 0.05), rtol=1e-9)
    # with the base rate (the old rule) the step would be twice as large in W: it must differ
    W_base = np.clip(small_lm.lr * g.align / (g.norms.mean() + 1e-6), 0, 5 * small_lm.lr)
    assert not np.allclose(tr.alpha[0], mirror_step(uniform(3), W_base, 1 / 0.05), rtol=1e-6)
