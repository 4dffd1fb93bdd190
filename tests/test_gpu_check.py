"""The GPU check script (bench/gpu/check.sh) runs, small, on the CPU: it cannot rot between the
sessions that have a GPU."""

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_check_runs_small_on_cpu(tmp_path):
    env = dict(os.environ, OUT=str(tmp_path / "gpu"), PYTHON=os.environ.get("PYTHON", "python"))
    r = subprocess.run([str(ROOT / "bench" / "gpu" / "check.sh"), "--small"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    res = json.loads((tmp_path / "gpu" / "check.json").read_text())
    (t,) = res["throughput"]
    assert t["size"] == "micro" and t["tokens_per_s"] > 0 and 0 < t["mfu"]
    cell = res["lm_cell"]
    assert cell["status"] == "ok" and cell["model"] == "micro" and cell["avg_loss"] > 0
    md = (tmp_path / "gpu" / "check.md").read_text()
    assert "| micro |" in md and "target" in md and "lm-restricted" in md
    lad = res["ladder"]  # the ladder subset: two sizes of three mixtures, shrunk to micro on the CPU
    assert sorted(lad["losses"]) == ["restricted-160m", "restricted-20m"]
    assert all(len(v) == 3 and all(x > 0 for x in v.values()) for v in lad["losses"].values())
    (row,) = lad["agreement"]
    assert row["size"] == "restricted-20m" and row["mixtures"] == 3 and 0 <= row["decision_accuracy"] <= 1
    assert "Model-size ladder subset" in md
