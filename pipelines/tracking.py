"""MLflow plumbing shared by the pipelines: the store, the experiment, logged models. (The trainer's logger
is pipelines/training/logger.py: it imports Lightning, which prediction and serving do not need.)"""
import fcntl
import os
from pathlib import Path

import mlflow

from pipelines.errors import ForecastError


def use_store(tracking_uri: str | None, experiment: str | None = None) -> str:
    """Point MLflow at `tracking_uri` (else its own default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db)."""
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    _create_sqlite_once(mlflow.get_tracking_uri())
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


def _create_sqlite_once(uri: str) -> None:
    """A new sqlite store is created (tables and migrations) by one process at a time: two `forecast train`
    started together on a new store both ran MLflow's migrations, and one died in alembic ("duplicate column
    name", "Online migration expected to match one row") with its run lost. The lock is the store folder's
    (flock on the directory: no lock file left behind), held only while the file does not exist yet."""
    if not uri.startswith("sqlite:///"):
        return
    path = Path(uri[len("sqlite:///"):])
    if path.exists() or not path.parent.is_dir():
        return
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        if not path.exists() or path.stat().st_size == 0:
            mlflow.tracking.MlflowClient(uri).search_experiments(max_results=1)   # creates and migrates it
    finally:
        os.close(folder)   # releases the lock
