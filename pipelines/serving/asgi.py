"""The ASGI app `forecast serve` runs: MLflow's own scoring-server app behind guard.py (the request-size limit
`FORECAST_MAX_REQUEST_BYTES`, the body timeout `FORECAST_BODY_TIMEOUT_S`, one-line error answers, CSV bodies read
with the model's series ids as text)."""
import os

from mlflow.exceptions import MlflowException
from mlflow.pyfunc import scoring_server

from forecast.pipelines.serving.guard import RequestGuard


def _text_columns(model) -> tuple[str, ...]:
    """The columns the model reads as text (its series ids); none for a model that is not ours."""
    try:
        predictor = getattr(model.unwrap_python_model(), "predictor", None)
    except MlflowException:   # a model of another flavour
        return ()
    spec = getattr(predictor, "spec", None)
    return tuple(getattr(spec, "text_columns", None) or getattr(getattr(spec, "schema", None), "id_columns", ()) or ())


_model = scoring_server.load_model_with_mlflow_config(os.environ[scoring_server._SERVER_MODEL_PATH])  # MLflow's way
app = RequestGuard(scoring_server.init(_model), int(os.environ.get("FORECAST_MAX_REQUEST_BYTES", 16 * 2**20)),
                   float(os.environ.get("FORECAST_BODY_TIMEOUT_S", 30)), _text_columns(_model))
