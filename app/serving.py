"""The ASGI app `forecast serve` runs: MLflow's own scoring-server app behind app/guard.py (the request-size
limit `FORECAST_MAX_REQUEST_BYTES`, the body timeout `FORECAST_BODY_TIMEOUT_S`, one-line error answers)."""
import os

from mlflow.pyfunc.scoring_server.app import app as scoring_app  # loads the model MLflow's way

from app.guard import RequestGuard

app = RequestGuard(scoring_app, int(os.environ.get("FORECAST_MAX_REQUEST_BYTES", 16 * 2**20)),
                   float(os.environ.get("FORECAST_BODY_TIMEOUT_S", 30)))
