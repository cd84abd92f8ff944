#!/usr/bin/env bash
# Install with the test dependencies, lint (ruff, configured in pyproject.toml: a lint error fails the run before
# the tests start), and run the test suite: one pytest worker per core (pytest-xdist; at most 4, each holds torch
# and MLflow in memory), torch on one thread in each (workers, not threads, use the cores). The tests of one module
# share a worker (--dist loadscope), so a module-scoped fixture (a trained model, a running server) is built once
# (xdist_group marks do nothing under pytest 9.2 with xdist 3.8). The 15 slowest tests are listed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check .
workers=$(nproc)
[ "$workers" -gt 4 ] && workers=4
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" .venv/bin/python -m pytest -n "$workers" --dist loadscope --durations=15 "$@"
