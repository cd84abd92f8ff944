#!/usr/bin/env bash
# Install, train on the bundled example, forecast, print. MLflow store: ./mlflow.db (see `mlflow ui`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/forecast train --data examples/hourly_load.csv
.venv/bin/forecast predict --model models:/forecaster/latest --data examples/hourly_load.csv --output forecasts.csv
