"""A logged forecaster read back by this version's code, for the commands that compare or reuse its weights
(backtest, promote, warm start, the Python API). Apart from pipelines/tracking.py, which prediction and the
server import without torch."""
import pickle

from forecast.pipelines.errors import ForecastError
from forecast.pipelines.serving.inference import Predictor
from forecast.pipelines.tracking import cannot_load, download_model


def load_predictor(model_uri: str) -> Predictor:
    """A logged forecaster read by this version's code (backtest, promote and warm start compare or reuse its
    weights), or one ForecastError line: a folder, a file or a model that is not a forecaster says so."""
    bundle = download_model(model_uri) / "artifacts" / "bundle"
    if not (bundle / "model.pt").is_file() or not (bundle / "spec.json").is_file():
        raise ForecastError(f"{model_uri}: is not a forecaster logged by this tool (it has no artifacts/bundle with "
                            "model.pt and spec.json); give models:/<name>@<alias>, models:/<name>/<version> or "
                            "runs:/<run id>/model of a `forecast train` run")
    try:
        return Predictor.load(bundle)
    except (OSError, EOFError, KeyError, ValueError, TypeError, RuntimeError, pickle.UnpicklingError) as err:
        raise cannot_load(model_uri, err) from None
