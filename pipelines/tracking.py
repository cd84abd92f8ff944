"""MLflow plumbing shared by the pipelines: the store, the experiment, logged models. (The trainer's logger
is pipelines/training/logger.py: it imports Lightning, which prediction and serving do not need.)"""
from pathlib import Path

import mlflow

from pipelines.errors import ForecastError


def use_store(tracking_uri: str | None, experiment: str | None = None) -> str:
    """Point MLflow at `tracking_uri` (else its own default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db)."""
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    if experiment:
        try:
            mlflow.set_experiment(experiment)
        except mlflow.exceptions.MlflowException as err:
            raise ForecastError(f"tracking store {mlflow.get_tracking_uri()}: {err.message}") from None
    return mlflow.get_tracking_uri()


def download_model(model_uri: str) -> Path:
    """A logged model's local directory (any MLflow URI), or one ForecastError line saying why not."""
    try:
        return Path(mlflow.artifacts.download_artifacts(model_uri))
    except (mlflow.exceptions.MlflowException, OSError) as err:
        message = getattr(err, "message", str(err)).splitlines()[0]
        raise ForecastError(f"cannot load model {model_uri!r} from {mlflow.get_tracking_uri()}: {message}") from None
