"""The LM stack's behaviour, pinned: what lets LM cells keep their keys across a refactor.

LM cells are keyed by ``bench.scoring.LM_TARGET_VERSION``, a number changed by hand, not by a hash
of the source (recomputing them costs the 90-minute deciding profile). This test is what makes that
safe: it pins the numbers of small runs through every path an LM cell depends on (tokenization of
plain and capped corpora and of supervised examples; the reweighted, sampled and systematic batches;
TANDEM's, DoGE's and DoReMi's proxy runs and costs; the twin gap, the clipped excess loss, DoGE's
alignments on both paths and its step; evaluation; Stage Two with its loss curve, the multi-stage
fine-tuning, and masked supervised losses with accuracy). A change that moves any of them fails
here; then change LM_TARGET_VERSION and these numbers in the same commit (and say it is a behaviour
change: every LM result is recomputed).

Tolerance. Integers and hashes are exact. The floats come from float32 training: rounding is
6e-8 relative per operation, and another CPU kernel path (ATEN_CPU_CAPABILITY=avx2 against
AVX-512 on this machine) moved them by at most 2.6e-6 relative; all three torch libraries on their
AVX2 path (the pin, bench.blas_kernel.pin_torch, with which these numbers were computed) against
the Intel machine's own path moved them by at most 9.1e-6. rtol = 1e-4 is 11 times that, so
CI's CPU passes; a behaviour change moves these numbers by 1e-3 or more (one step more, another
batch row, another default: see test_a_behaviour_change_is_caught), far outside it.
"""

import golden_lm
import numpy as np
import pytest

from bench import scoring

VERSION = "avx2-pin-1"  # bench.scoring.LM_TARGET_VERSION these numbers belong to
RTOL, ATOL = 1e-4, 1e-7

GOLDEN = {
    'tokens.plain': 'eeb5f6b2615857ee',
    'tokens.capped': '86a98b4effadeed3',
    'tokens.sft': '652be95cd189bedd',
    'systematic': '8,6,2',
    'tandem.output.0': 0.31810055755906635,
    'tandem.output.1': 0.36516615334484315,
    'tandem.output.2': 0.31673328909609055,
    'tandem.grad_steps': 26,
    'tandem.tokens': 7296,
    'doge.output.0': 0.17379831032353613,
    'doge.output.1': 0.15602618906223126,
    'doge.output.2': 0.6701755006142325,
    'doge.grad_steps': 12,
    'doge.tokens': 2304,
    'doremi.output.0': 0.2414159700812131,
    'doremi.output.1': 0.18889133870408406,
    'doremi.output.2': 0.5696926912147028,
    'doremi.grad_steps': 24,
    'doremi.tokens': 4608,
    'gap.0': -0.317238246401151,
    'gap.1': -0.3141569197177887,
    'gap.2': -0.41866903007030487,
    'excess.0': 0.3226107284426689,
    'excess.1': 0.3543538898229599,
    'excess.2': 0.4311579279601574,
    'eval.0': 4.374979003667831,
    'eval.1': 4.495166889495319,
    'eval.2': 4.234180671473344,
    'align.naive.0': 2.25471252924652,
    'align.naive.1': 1.7612910247419953,
    'align.naive.2': 4.6894583729225845,
    'align.batched.0': 2.2547125733068767,
    'align.batched.1': 1.761291017924134,
    'align.batched.2': 4.689458341600794,
    'doge_step.0': -0.03302939236164093,
    'doge_step.1': 0.006003071554005146,
    'doge_step.2': -0.033962663263082504,
    'doge_step.3': -0.033905599266290665,
    'sample.0': 4.458320485949517,
    'sample.1': 5.133201522959603,
    'sample.2': 4.377514809370041,
    'stage_two.avg_loss': 4.360562931829029,
    'stage_two.avg_ppl': 80.31663460298147,
    'stage_two.avg_se': 0.004012164112003562,
    'stage_two.n_params': 70512,
    'stage_two.curve.000004': 4.709338046963568,
    'stage_two.curve.000008': 4.360562931829029,
    'stage_two.loss.digits': 4.471038803458214,
    'stage_two.loss.letters': 4.572382771968842,
    'stage_two.loss.upper': 4.038267220060031,
    'stage_two.ppl.digits': 87.4475166296021,
    'stage_two.ppl.letters': 96.77442665870734,
    'stage_two.ppl.upper': 56.72796052063499,
    'stage_two.repetitions.digits': 0.08284023668639054,
    'stage_two.repetitions.letters': 0.022172949002217297,
    'stage_two.repetitions.upper': 0.3870967741935484,
    'stage_two.se.digits': 0.007893954634600677,
    'stage_two.se.letters': 0.007397309025125169,
    'stage_two.se.upper': 0.005276594277421019,
    'stage_two.stage_two.flops': 649838592.0,
    'stage_two.stage_two.steps': 8,
    'stage_two.train_avg_loss': 4.3534003443395095,
    'stage_two.train_loss.digits': 4.453920964151621,
    'stage_two.train_loss.letters': 4.574674597708508,
    'stage_two.train_loss.upper': 4.0316054711584,
    'stage_two.val_avg_loss': 4.346200142889111,
    'stage_two.val_loss.digits': 4.452977763281928,
    'stage_two.val_loss.letters': 4.546123886704445,
    'stage_two.val_loss.upper': 4.039498778680961,
    'multistage.0': 4.849137614082408,
    'sft.avg_loss': 4.428394901090198,
    'sft.avg_acc': 0.0,
    'sft.train_avg_loss': 4.464584699316388,
    'sft.val_avg_loss': 4.45580413176729,
}


@pytest.fixture(scope="module")
def observed():
    return golden_lm.observe()


def test_the_version_is_the_one_these_numbers_belong_to():
    assert scoring.LM_TARGET_VERSION == VERSION, (
        "LM_TARGET_VERSION changed: update VERSION and GOLDEN here to the new behaviour's numbers")


def test_lm_behaviour_is_pinned(observed):
    assert set(observed) == set(GOLDEN)
    moved = []
    for k, want in GOLDEN.items():
        got = observed[k]
        if isinstance(want, float):
            if not np.isclose(got, want, rtol=RTOL, atol=ATOL):
                moved.append(f"{k}: {got!r} (pinned {want!r})")
        elif got != want:
            moved.append(f"{k}: {got!r} (pinned {want!r})")
    assert not moved, ("the LM stack's behaviour changed; if that is intended, change "
                       "bench.scoring.LM_TARGET_VERSION and the numbers here together:\n" + "\n".join(moved))


def test_a_behaviour_change_is_caught():
    """The tolerance sees small changes: one more warm-up step, or one more row in a batch, moves
    the pinned signals by more than ten times RTOL."""
    from bench.lm.build import lm_problem

    corpus = golden_lm.toy_corpus()
    for change in ({"warmup": 3}, {"batch_size": 7}):
        sig, _ = golden_lm.signals(lm_problem(0, corpus=corpus, **{**golden_lm.SETTINGS, **change}))
        got = np.array([sig[k] for k in sorted(sig)])
        pinned = np.array([GOLDEN[k] for k in sorted(sig)])
        assert not np.allclose(got, pinned, rtol=10 * RTOL, atol=ATOL), change
