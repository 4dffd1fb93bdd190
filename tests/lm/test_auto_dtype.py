"""dtype = "auto": bf16 autocast only where it is faster (bench.lm.build.auto_dtype)."""

import bench.lm.build as build
from bench.lm.build import BF16_FROM_D_MODEL, auto_dtype, lm_problem, onednn_bf16_allowed


def test_auto_picks_bf16_only_for_wide_models_on_cpus_with_native_bf16(monkeypatch):
    import bench.provenance as prov

    monkeypatch.setattr(prov, "cpu_isa", lambda: "avx2+avx512f+avx512_bf16+amx_bf16+amx_tile")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_AMX")  # the user lifted the harness's cap
    assert [auto_dtype(m, 64, "cpu") for m in ("micro", "tiny", "small", "20m")] == ["float32"] * 3 + ["bf16"]
    assert build.model_config("20m").d_model >= BF16_FROM_D_MODEL > build.model_config("small").d_model
    monkeypatch.setattr(prov, "cpu_isa", lambda: "avx2+avx512f")  # no native bf16: casts only cost
    assert auto_dtype("20m", 64, "cpu") == "float32"


def test_under_the_harness_cap_on_onednn_auto_keeps_float32(monkeypatch):
    """bench.blas_kernel caps oneDNN at AVX2 (the same bits on every CPU), which leaves the AMX units
    unused: bf16 would then only cost casts."""
    import bench.provenance as prov

    monkeypatch.setattr(prov, "cpu_isa", lambda: "avx2+avx512f+avx512_bf16+amx_bf16+amx_tile")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert auto_dtype("20m", 64, "cpu") == "float32"
    assert [onednn_bf16_allowed({"ONEDNN_MAX_CPU_ISA": v}) for v in ("avx2", "AVX512_CORE", "AVX512_CORE_BF16",
                                                                      "ALL")] == [False, False, True, True]
    assert onednn_bf16_allowed({})  # oneDNN's own default: no cap


def test_auto_is_the_default_and_resolves_before_the_fingerprint(toy_corpus):
    auto = lm_problem(0, corpus=toy_corpus, model="micro", seq_len=32, batch_size=6)
    fp32 = lm_problem(0, corpus=toy_corpus, model="micro", seq_len=32, batch_size=6, dtype="float32")
    assert auto.trainer.train.dtype == "float32"  # so every stored float32 cell keeps its key
    assert auto.fingerprint() == fp32.fingerprint()
