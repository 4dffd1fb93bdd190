"""LM speed: a TANDEM episode against the plain steps it is made of, DoGE's alignment step against a
plain step (and its growth with the number of domains), the trainer against a minimal PyTorch loop."""

import numpy as np
import torch

from bench.lm.model import token_losses
from tandem_ref import get_method

from .lmsetup import min_times, problem

E, K = 5, 4


def test_tandem_episode_lm(benchmark, record_ratio):
    p = problem(4)
    m = get_method("tandem", episode=E, probe=K)
    st = m.start(p, budget=10**9, seed=0)
    a = np.full(4, 0.25)
    s0, g0 = p.cost.grad_steps, p.cost.forward_evals
    m.advance(p, st, stop_after=1)
    steps, evals = p.cost.grad_steps - s0, p.cost.forward_evals - g0  # what one episode performs
    w, u = st.proxy, st.reference
    t = min_times({"episode": lambda: m.advance(p, st, stop_after=1),
                   "step": lambda: p.step(w, a), "ref": lambda: p.step(u, a, val_weight=1.0),
                   "gap": lambda: p.loss_gap(w, u)})
    benchmark.pedantic(lambda: m.advance(p, st, stop_after=1), rounds=1, iterations=1)
    ideal = (steps - K) * t["step"] + K * t["ref"] + evals / 2 * t["gap"]  # a gap is 2 state forwards
    record_ratio("tandem_episode_lm_M4", t["episode"] / ideal, target=1.10, seconds=t["episode"],
                 note=f"{steps - K} proxy + {K} reference steps + {evals // 2} twin gaps, each timed plainly")


def _doge_step(p, st, a, naive=False):
    (p.naive_grad_stats if naive else p.grad_stats)(st)
    p.step(st, a)


def _doge_times(m):
    p = problem(m)
    a = np.full(m, 1 / m)
    st = p.step(p.init_state(0), a, 2)
    # the floor of any exact path: one backward over all evaluation rows, one over the validation rows, the step
    er = p._eval_rows(st, "train", range(m))
    er, ew = np.concatenate([r for r, _ in er]), np.concatenate([mk / mk.sum() for _, mk in er])
    vr, vw = (np.concatenate(x) for x in p._val_batch(st, 1.0))

    def floor():
        p.trainer.gradient(st.params, er, ew)
        p.trainer.gradient(st.params, vr, vw)
        p.step(st, a)

    return min_times({"fast": lambda: _doge_step(p, st, a), "naive": lambda: _doge_step(p, st, a, naive=True),
                      "plain": lambda: p.step(st, a), "floor": floor})


def test_doge_alignment_step(benchmark, record_ratio):
    t = {m: _doge_times(m) for m in (4, 7, 16)}
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    t7 = t[7]
    floor = t7["floor"] / t7["plain"]
    record_ratio("doge_step_vs_plain_M7", t7["fast"] / t7["plain"], target=2.5, seconds=t7["fast"],
                 known_miss=floor > 2.5 * 0.95,
                 note=f"naive (one backward per domain): {t7['naive'] / t7['plain']:.2f}; floor of an exact path "
                      f"(backward over 14 evaluation + 14 validation rows, then the 16-row step): {floor:.2f}; "
                      "the batched per-domain backward costs ~1.4x a plain one (bench/lm/alignment.py)")
    grow = (t[16]["fast"] / t[16]["plain"]) / (t[4]["fast"] / t[4]["plain"])
    record_ratio("doge_step_M16_vs_M4", grow, target=1.3, seconds=t[16]["fast"],
                 note=f"evaluation batch of 16 rows stratified over M; naive: "
                      f"{(t[16]['naive'] / t[16]['plain']) / (t[4]['naive'] / t[4]['plain']):.2f}")


def test_trainer_vs_minimal_loop(benchmark, record_ratio):
    n = 6
    p = problem(4, model="small", seq_len=128)
    a = np.full(4, 0.25)
    st0 = p.init_state(0)
    batches, s = [], st0.copy()
    for _ in range(n):  # the very batches the trainer reads, drawn beforehand for the minimal loop
        rows, w = p._train_batch(s, a)
        batches.append((torch.as_tensor(rows.astype(np.int64)), torch.as_tensor(w, dtype=torch.float32)))
    model = p.trainer.module
    opt = torch.optim.AdamW(model.parameters(), lr=p.lr, betas=(0.9, 0.95), weight_decay=0.1)

    def minimal():
        for x, w in batches:
            loss = (token_losses(model(x[:, :-1]), x[:, 1:]) * w).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()

    t = min_times({"trainer": lambda: p.step(st0, a, n), "minimal": minimal}, rounds=5)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    tokens = n * sum(len(x) for x, _ in batches[:1]) * 128
    record_ratio("lm_trainer_tokens_per_s_vs_minimal_loop", t["minimal"] / t["trainer"], target=0.95,
                 higher_is_better=True, seconds=t["trainer"],
                 note=f"small GPT, 16 x 128 tokens; trainer {tokens / t['trainer']:.0f} tok/s")
