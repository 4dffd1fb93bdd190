#!/usr/bin/env bash
# Every GPU measurement of the project in at most 8 minutes (bench/gpu/check.py says what), into
# results/gpu/. Run it whenever a GPU is at hand and commit what it wrote:
#   bench/gpu/check.sh            # on the GPU machine, from the repository root
#   bench/gpu/check.sh --small    # the CPU smoke run the tests use
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python}
[ -x .venv/bin/python ] && PY=.venv/bin/python
exec timeout 480 "$PY" -m bench.gpu.check --out "${OUT:-results/gpu}" "$@"
