"""MLflow plumbing shared by the pipelines: the store, the experiment, the trainer's logger."""
import mlflow
from lightning.pytorch.loggers import MLFlowLogger

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


class RunLogger(MLFlowLogger):
    """Lightning's MLflow logger on a run the pipeline owns. Lightning would mark the run FINISHED when `fit`
    returns, before evaluation and registration; the pipeline ends the run itself (FINISHED or FAILED)."""

    def __init__(self, run_id: str):  # asynchronous: a metric batch costs the training loop ~nothing
        super().__init__(tracking_uri=mlflow.get_tracking_uri(), run_id=run_id, synchronous=False)

    def finalize(self, status: str = "success") -> None:
        pass
