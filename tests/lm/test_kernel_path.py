"""Verdicts do not depend on the machine's math kernels (slow: tox -e slow).

Another CPU's libraries choose other kernels (AVX2 against AVX-512), which changes every LM cell in
its low bits. A small deciding-profile LM suite and the claims catalogue are run twice, once as the
harness pins them (bench/blas_kernel.py) and once on another kernel path (for torch, whose kernels
the harness pins to AVX2, the machine's own: ATen's AVX-512 where the CPU has it, oneDNN and MKL
unrestricted; for numpy's BLAS, a kernel other than the pinned one: SkylakeX's on an AVX-512 CPU,
else Sandybridge's); every verdict must be the same and every printed
mean of the second run must lie inside the first run's printed interval."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import blas_kernel, results
from bench.evidence.replicate import interval_of, verdict_of

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

SHRINK = {'model = "tiny"': 'model = "micro"', "stage_two_steps = 800": "stage_two_steps = 60",
          "eval_seqs = 256": "eval_seqs = 32", "budget = 300": "budget = 30", "seeds = 8": "seeds = 4",
          "curve_every = 50": "curve_every = 20"}


def _run(args, env_extra, cwd):
    env = {**{k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", *blas_kernel.TORCH_KERNELS)},
           **env_extra, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "bench.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-2000:]


def _claims(out: Path) -> dict:
    rows = {}
    for line in (out / "tables" / "claims.md").read_text().splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        rows[(cells[0], cells[1], cells[2])] = (cells[5], cells[6])
    return rows


@pytest.mark.parametrize("what", ["lm", "claims"])
def test_verdicts_and_printed_numbers_survive_another_kernel_path(tmp_path, what):
    if what == "lm":
        text = (ROOT / "bench" / "suites" / "lm-restricted.toml").read_text()
        for a, b in SHRINK.items():
            text = text.replace(a, b)
        suite = tmp_path / "lm-restricted.toml"
        suite.write_text(text)
        other = blas_kernel.native_torch_kernels()
        native = other["ATEN_CPU_CAPABILITY"]
        args = [str(suite), "--profile", "lm", "--jobs", "2"]
    else:
        kernel = "SkylakeX" if "avx512f" in blas_kernel.x86_flags() else "Sandybridge"
        args, other = ["claims", "--profile", "quick", "--jobs", "2"], {"OPENBLAS_CORETYPE": kernel}
    outs = []
    for name, env in (("pinned", {}), ("other", other)):
        out = tmp_path / name
        _run(["run", *args, "--out", str(out)], env, tmp_path)
        _run(["report", "--out", str(out)], env, tmp_path)
        outs.append(_claims(out))
        if what == "claims":  # the kernels really differ: the pinned one, then the other
            used = set(results.read_table(out / "claims")["blas_kernel"].dropna())
            assert used == ({blas_kernel.CORETYPE} if name == "pinned" else {other["OPENBLAS_CORETYPE"]}), used
        else:  # torch's kernels: the pinned AVX2 path, then the machine's own
            t = results.read_table(out / "lm-restricted@lm")
            assert set(t["mkl_cbwr"].dropna()) == {"AVX2" if name == "pinned" else "AUTO"}
            assert set(t["torch_cpu_capability"].dropna()) == {"AVX2" if name == "pinned" else native.upper()}
    a, b = outs
    assert a.keys() == b.keys() and a
    for key in a:
        assert verdict_of(a[key][1]) == verdict_of(b[key][1]), (key, a[key], b[key])
        ia, ib = interval_of(a[key][0]), interval_of(b[key][0])
        if ia and ib:
            assert ia[1] <= ib[0] <= ia[2], (key, a[key][0], b[key][0])
