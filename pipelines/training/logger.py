"""The trainer's MLflow logger (kept apart from pipelines/tracking.py: importing Lightning costs seconds)."""
import mlflow
from lightning.pytorch.loggers import MLFlowLogger


class RunLogger(MLFlowLogger):
    """Lightning's MLflow logger on a run the pipeline owns. Lightning would mark the run FINISHED when `fit`
    returns, before evaluation and registration; the pipeline ends the run itself (FINISHED or FAILED)."""

    def __init__(self, run_id: str):  # asynchronous: a metric batch costs the training loop ~nothing
        super().__init__(tracking_uri=mlflow.get_tracking_uri(), run_id=run_id, synchronous=False)

    def finalize(self, status: str = "success") -> None:
        pass
