"""The ASGI app `forecast serve` runs: MLflow's own scoring-server app behind guard.py (the request-size limit
`FORECAST_MAX_REQUEST_BYTES`, the body timeout `FORECAST_BODY_TIMEOUT_S`, one-line error answers, CSV bodies read
with the model's series ids as text, the API docs `FORECAST_API_DOCS`, the version named in each answer
`FORECAST_SERVED_MODEL`: serve.py sets them)."""
import os

from mlflow.pyfunc import scoring_server

from forecast.pipelines.serving.guard import RequestGuard
from forecast.pipelines.tracking import model_columns

_model = scoring_server.load_model_with_mlflow_config(os.environ[scoring_server._SERVER_MODEL_PATH])  # MLflow's way
app = RequestGuard(scoring_server.init(_model), int(os.environ.get("FORECAST_MAX_REQUEST_BYTES", 16 * 2**20)),
                   float(os.environ.get("FORECAST_BODY_TIMEOUT_S", 30)), model_columns(_model)["text_columns"],
                   api_docs=bool(os.environ.get("FORECAST_API_DOCS")),
                   served=os.environ.get("FORECAST_SERVED_MODEL", ""))
