#!/usr/bin/env bash
# Install with the test dependencies and run the test suite: one pytest worker per core (pytest-xdist), torch
# on one thread in each (workers, not threads, use the cores); tests marked with an xdist_group share a worker.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" .venv/bin/python -m pytest -n auto --dist loadgroup "$@"
