#!/usr/bin/env bash
# Install with the test dependencies and run the test suite: one pytest worker per core (pytest-xdist; at most
# 4, each holds torch and MLflow in memory), torch on one thread in each (workers, not threads, use the cores);
# tests marked with an xdist_group share a worker.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
workers=$(nproc)
[ "$workers" -gt 4 ] && workers=4
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" .venv/bin/python -m pytest -n "$workers" --dist loadgroup "$@"
