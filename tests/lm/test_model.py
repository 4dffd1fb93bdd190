import numpy as np
import pytest
import torch

from bench.lm.build import lm_problem
from bench.lm.model import GPT, SIZES, config
from bench.lm.trainer import TrainConfig


@pytest.mark.parametrize("size, lo, hi", [("small", 0.4e6, 0.6e6), ("20m", 15e6, 25e6), ("85m", 75e6, 95e6),
                                          ("160m", 140e6, 175e6)])
def test_sizes(size, lo, hi):
    with torch.device("meta"):
        n = GPT(config(size)).n_params()
    assert lo < n < hi, (size, n)


def test_causal_and_tied():
    torch.manual_seed(0)
    m = GPT(config("micro", seq_len=16))
    m.init_weights(torch.Generator().manual_seed(0))
    assert m.head.weight is m.tok.weight
    x = torch.randint(0, 256, (2, 16))
    y = x.clone()
    y[:, 10:] = (y[:, 10:] + 1) % 256
    with torch.no_grad():
        a, b = m(x), m(y)
    assert torch.equal(a[:, :10], b[:, :10]) and not torch.allclose(a[:, 10:], b[:, 10:])


def test_training_lowers_loss_and_is_deterministic(small_lm):
    a = np.full(3, 1 / 3)
    s0 = small_lm.init_state(5)
    before = small_lm.evaluate(s0, "val")["avg_loss"]
    s1 = small_lm.step(s0, a, 30)
    after = small_lm.evaluate(s1, "val")["avg_loss"]
    assert after < before - 0.5
    again = small_lm.step(small_lm.init_state(5), a, 30)
    assert all(torch.equal(p, q) for p, q in zip(s1.params, again.params))
    assert small_lm.step(s0, a, 1, rng=np.random.default_rng(1)).params[0].equal(
        small_lm.step(s0, a, 1, rng=np.random.default_rng(2)).params[0])  # batches ignore the loop's rng
    assert s0.step == 0 and s1.step == 30  # step returns a new state


def test_cost_counts_tokens_and_flops(small_lm):
    small_lm.step(small_lm.init_state(0), np.full(3, 1 / 3), 4)
    c = small_lm.cost
    assert c.grad_steps == 4 and c.tokens == 4 * 6 * 32
    assert c.flops == pytest.approx(6 * small_lm.trainer.n_params * c.tokens)


def test_lr_schedule():
    c = TrainConfig(lr=1.0, warmup=4, decay_steps=14, min_lr=0.1)
    assert c.lr_at(0) == 0.25 and c.lr_at(3) == 1.0 and c.lr_at(4) == 1.0
    assert c.lr_at(14) == pytest.approx(0.1) and c.lr_at(100) == pytest.approx(0.1)


def test_bf16_and_compile_paths_run_on_cpu(toy_corpus):
    base = dict(corpus=toy_corpus, model="micro", seq_len=32, batch_size=6, warmup=2)
    ref = lm_problem(0, **base)
    a = np.full(3, 1 / 3)
    s = ref.step(ref.init_state(0), a, 3)
    bf = lm_problem(0, dtype="bf16", **base)
    sb = bf.step(bf.init_state(0), a, 3)
    assert all(p.dtype == torch.float32 for p in sb.params)  # autocast: master weights stay float32
    assert bf.evaluate(sb)["avg_loss"] == pytest.approx(ref.evaluate(s)["avg_loss"], abs=0.05)
    comp = lm_problem(0, compile="eager", **base)  # torch.compile's graph capture, no C compiler needed
    sc = comp.step(comp.init_state(0), a, 3)
    assert all(torch.allclose(p, q, atol=1e-5) for p, q in zip(s.params, sc.params))


def test_sizes_table_is_complete():
    assert {"micro", "tiny", "small", "20m", "85m", "160m"} <= set(SIZES)


def test_throughput_script_on_cpu(tmp_path):
    import json

    from bench.lm.throughput import main

    assert main(["--sizes", "micro", "--steps", "3", "--seq-len", "32", "--batch-size", "4", "--device", "cpu",
                 "--peak-tflops", "1", "--out", str(tmp_path)]) == 0
    r = json.loads((tmp_path / "throughput.json").read_text())["runs"][0]
    assert r["tokens_per_s"] > 0 and 0 < r["mfu"] < 1 and r["params"] > 0 and np.isfinite(r["val_loss_after"])


def test_cuda_without_a_gpu_is_bad_input(monkeypatch):
    from tandem_ref.errors import BadInput

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(BadInput, match="CUDA is not available"):
        TrainConfig(device="cuda")
