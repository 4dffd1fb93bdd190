"""LM speed: a TANDEM episode against the plain steps it is made of, DoGE's alignment step against a
plain step (and its growth with the number of domains), the trainer against a minimal PyTorch loop."""

import numpy as np
import torch

from bench.lm.alignment import per_domain_gradients
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


def peak_bytes(fn) -> float:
    """Peak CPU memory a call allocates above what it started with: torch's profiler, the allocations and
    frees of every operator summed in time order (a second call, after a warm-up)."""
    from torch.profiler import ProfilerActivity, profile

    fn()
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    peak = cur = 0
    for e in sorted((e for e in prof.events() if e.self_cpu_memory_usage), key=lambda e: e.time_range.start):
        cur += e.self_cpu_memory_usage
        peak = max(peak, cur)
    return float(peak)


def _doge_times(m):
    p = problem(m)
    a = np.full(m, 1 / m)
    st = p.step(p.init_state(0), a, 2)
    per, _ = p.batches.by_domain(st)
    rows, wts = [r for r, _ in per], [mk / mk.sum() for _, mk in per]
    vr, vw = (np.concatenate(x) for x in p.batches.val(st, 1.0))
    fns = {"doge": lambda: p.grad_stats(st).step(a), "plain": lambda: p.step(st, a),
           "naive": lambda: p.naive_grad_stats(st).step(a), "batched": lambda: p.batched_grad_stats(st).step(a),
           "val": lambda: p.trainer.gradient(st.params, vr, vw),
           "per_domain_loop": lambda: [p.trainer.gradient(st.params, r, w) for r, w in zip(rows, wts)],
           "per_domain_vmap": lambda: per_domain_gradients(p.trainer, st.params, rows, wts)}
    return p, st, a, min_times(fns)


def test_doge_step(benchmark, record_ratio):
    """DoGE's step as its code takes it: per-domain gradients on the domains' rows of the 16-row batch,
    the validation gradient, and the proxy's step from the same gradients; against a plain step."""
    runs = {m: _doge_times(m) for m in (4, 7, 16)}
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    p, st, a, t = runs[7]
    pd = min(t["per_domain_loop"], t["per_domain_vmap"])
    floor = (pd + t["val"]) / t["plain"]  # the per-domain gradients by the cheaper way, plus the validation's
    record_ratio("doge_step_vs_plain_M7", t["doge"] / t["plain"], target=2.0, seconds=t["doge"],
                 known_miss=floor > 2.0 * 0.95,
                 note=f"per-domain gradients alone {pd / t['plain']:.2f}x a plain step (7 backward calls "
                      f"{t['per_domain_loop'] / t['plain']:.2f}x, one batched call "
                      f"{t['per_domain_vmap'] / t['plain']:.2f}x), "
                      f"validation backward over {p.val_batch * len(p.val_domains)} rows {t['val'] / t['plain']:.2f}x: "
                      f"floor {floor:.2f}; batched path {t['batched'] / t['plain']:.2f}x")
    plain_mem = peak_bytes(lambda: p.step(st, a))
    mem = {k: peak_bytes(f) / plain_mem for k, f in (("naive", lambda: p.naive_grad_stats(st).step(a)),
                                                     ("batched", lambda: p.batched_grad_stats(st).step(a)))}
    record_ratio("doge_step_peak_memory_vs_plain_M7", mem["naive"], target=1.5, seconds=None,
                 note=f"the path grad_stats takes below 10 domains; the batched call (vmap) holds every domain's "
                      f"activations and gradients at once: {mem['batched']:.2f}x; plain step peak "
                      f"{plain_mem / 1e6:.1f} MB")
    r = {m: runs[m][3]["doge"] / runs[m][3]["plain"] for m in runs}
    record_ratio("doge_step_M16_vs_M4", r[16] / r[4], target=1.3, seconds=runs[16][3]["doge"], regression=False,
                 note=f"16 rows stratified over M; M = 4: {r[4]:.2f}x, 16: {r[16]:.2f}x a plain step "
                      "(one backward per domain below 10 domains, the batched call from 10)")


# --- model FLOPs utilisation on this CPU, against a large matmul measured in the same run -----------

def matmul_peak(dtype, n: int = 2048) -> float:
    """FLOP/s of an n x n matmul on one thread (2 n^3 per product), the best of interleaved rounds."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    return 2.0 * n ** 3 / min_times({"mm": lambda: a @ b}, rounds=3)["mm"]


MFU_SIZES = ("tiny", "small", "20m")  # tiny: the deciding LM profile's model (seq 64, batch 16)


def test_mfu(benchmark, record_ratio, record_section):
    torch.set_num_threads(1)
    peak = {"float32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16)}
    rows, mfu = [], {}
    for size in MFU_SIZES:
        t = {}
        for dtype in ("float32", "bf16"):
            p = problem(4, model=size, dtype=dtype)
            a = np.full(4, 0.25)
            st = p.step(p.init_state(0), a, 1)
            t[dtype] = min_times({"step": lambda: p.step(st, a)}, rounds=3, inner=3 if size != "20m" else 1)["step"]
        tokens = p.batch_size * p.data.seq_len
        flops = {k: 6.0 * p.trainer.n_params * tokens / v for k, v in t.items()}
        mfu[size] = flops["float32"] / peak["float32"]
        rows.append(f"| {size} ({p.trainer.n_params / 1e6:.2f}M) | {tokens / t['float32']:,.0f} | "
                    f"{mfu[size]:.1%} | {tokens / t['bf16']:,.0f} | {flops['bf16'] / peak['bf16']:.1%} | "
                    f"{flops['bf16'] / peak['float32']:.1%} | {t['float32'] / t['bf16']:.2f} |")
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    record_section("Model FLOPs utilisation on this CPU (one thread, 16 x 64 tokens, AdamW step)",
                   f"Peaks measured in the same run (2048 x 2048 matmul): float32 {peak['float32'] / 1e12:.3f} "
                   f"TFLOP/s, bf16 {peak['bf16'] / 1e12:.3f} TFLOP/s. MFU = 6 N tokens/s over the peak (attention "
                   "FLOPs left out, so slightly understated).\n\n| model | fp32 tok/s | fp32 MFU | bf16 tok/s | "
                   "bf16 MFU (of bf16 peak) | bf16 (of fp32 peak) | bf16 speed-up |\n|---|---|---|---|---|---|---|\n"
                   + "\n".join(rows))
    record_ratio("mfu_fp32_tiny_lm_profile_model", mfu["tiny"], target=0.35, higher_is_better=True, gated=False,
                 note=f"share of the float32 matmul peak; small {mfu['small']:.1%}, 20m {mfu['20m']:.1%}")


def test_tandem_cost_vs_doge(benchmark, record_ratio):
    """TANDEM's mixer cost against DoGE's on the same LM budget, from the deciding profile's stored runs
    (the paper: 26 against 65 minutes at 160M, 0.40): wall time of the mixer (the cell's time minus its
    Stage Two) and FLOPs, mean over the reported seeds of every setting where both ran."""
    import pandas as pd

    from bench.perf.gate import ROOT

    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    wall, flops, used = {"tandem": 0.0, "doge": 0.0}, {"tandem": 0.0, "doge": 0.0}, []
    for path in sorted((ROOT / "results").glob("lm-*@lm/results.parquet")):
        df = pd.read_parquet(path)
        fin = df[(df["final"] == True) & (df["study"] == path.parent.name.split("@")[0])]  # noqa: E712
        if not {"tandem", "doge"} <= set(fin["method"]):
            continue
        used.append(path.parent.name)
        for m in wall:
            g = fin[fin["method"] == m]
            wall[m] += float((g["wall_s"] - g["stage_two.wall_s"]).mean())
            flops[m] += float(g["cost.flops"].mean())
    if not used:
        return
    record_ratio("tandem_vs_doge_mixer_wall", wall["tandem"] / wall["doge"], target=0.5, gated=False,
                 note=f"from {', '.join(used)}; FLOPs ratio {flops['tandem'] / flops['doge']:.2f}; the paper 0.40")


def test_trainer_vs_minimal_loop(benchmark, record_ratio):
    n = 6
    p = problem(4, model="small", seq_len=128)
    a = np.full(4, 0.25)
    st0 = p.init_state(0)
    batches, s = [], st0.copy()
    for _ in range(n):  # the very batches the trainer reads, drawn beforehand for the minimal loop
        rows, w = p.batches.train(s, a)
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
