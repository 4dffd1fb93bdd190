"""Two CPU processes under torchrun (gloo): every rank holds the same mixture and parameters, and
the sharded run matches the single-process one up to float summation order."""

import json
import os
import subprocess
import sys

import numpy as np


def _run(tmp_path, nproc, out):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    args = ["-m", "bench.lm.ddp", "--method", "tandem", "doge", "--budget", "10", "--model", "micro",
            "--batch-size", "8", "--seq-len", "32", "--domains", "4", "--out", str(out)]
    launch = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc)] if nproc > 1 else []
    cmd = [sys.executable, *launch, *args]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]


def test_two_ranks_agree_and_match_one_process(tmp_path):
    _run(tmp_path, 2, tmp_path / "two")
    _run(tmp_path, 1, tmp_path / "one")
    for method in ("tandem", "doge"):
        r0, r1 = (json.loads((tmp_path / "two" / f"rank{r}-{method}.json").read_text()) for r in (0, 1))
        assert r0["world"] == 2 and r1["rank"] == 1
        # bitwise: every update's mixture, signal and diagnostics, and the proxy's parameters
        assert r0["trajectory"] == r1["trajectory"] and r0["param_checksum"] == r1["param_checksum"]
        one = json.loads((tmp_path / "one" / f"rank0-{method}.json").read_text())
        values = lambda r, k: np.array([list(u[k].values()) if isinstance(u[k], dict) else u[k]  # noqa: E731
                                        for u in r["trajectory"]])
        assert np.allclose(list(r0["weights"].values()), list(one["weights"].values()), atol=1e-4)
        assert np.allclose(values(r0, "weights"), values(one, "weights"), atol=1e-4)
        assert np.allclose(values(r0, "scores"), values(one, "scores"), rtol=1e-3, atol=1e-5)
        assert r0["param_checksum"] == np.float64(one["param_checksum"]) or \
            abs(r0["param_checksum"] - one["param_checksum"]) < 1e-2
        assert r0["cost"]["tokens"] == one["cost"]["tokens"]  # the global batch, counted once
