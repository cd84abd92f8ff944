"""Crash safety: checkpoints that outlive the process, and `forecast train --resume RUN_ID`.

Every epoch (and every `checkpoint_every` steps on long epochs) the full training state - weights, optimiser,
scheduler, loop counters, callback states - is saved and logged to the run as `checkpoints/resume/last.ckpt`,
so it survives a SIGKILL and travels with the tracking store. A resume re-attaches to the same run, checks
that the data (SHA-256) and every setting are the same, and continues from that file.
"""
import contextlib
import fcntl
import os
import tempfile
from dataclasses import fields
from pathlib import Path

import lightning as L
import mlflow

from forecast.models.config import ModelConfig
from forecast.pipelines.config import TrainConfig
from forecast.pipelines.errors import ForecastError

ARTIFACT = "checkpoints/resume"
INFERRED_TAG = "forecast.inferred"   # the settings given as None whose params show the value inferred
DATA_TAG = "forecast.data_sha256"
# where things are, not what is trained; and the model's sizes, which come from the (compared) data
NOT_COMPARED = {"resume", "progress", "tracking_uri", "experiment", "data_path",
                *(f"model.{f.name}" for f in fields(ModelConfig) if f.metadata.get("derived"))}


def checkpoint_dir(run_id: str) -> Path:
    """Where a run keeps its best checkpoint while it trains: stable per run, so a resume on the same machine
    finds the best model so far, not only the last state."""
    return Path(tempfile.gettempdir()) / "forecast-checkpoints" / run_id


@contextlib.contextmanager
def run_lock(run_id: str):
    """This process trains `run_id` while the block runs; another `--resume` of it on this machine meanwhile is
    refused (it was accepted: two processes trained into one run, their losses interleaved). An flock on a file
    named after the run in the temp folder: the OS lets go of it when the process ends, killed or not, so a run
    killed with SIGKILL resumes. Processes on other machines are not seen."""
    folder = Path(tempfile.gettempdir()) / "forecast-runs"
    folder.mkdir(exist_ok=True)
    handle = os.open(folder / f"{run_id}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ForecastError(f"--resume {run_id}: another process on this machine is training that run; resume "
                                "it once that process has ended (or stop it)") from None
        yield
    finally:
        os.close(handle)   # releases the lock


class RunCheckpoint(L.Callback):
    """Save the last training state and log it to the run (rank 0 logs; every rank takes part in the save)."""

    def __init__(self, directory: Path, every_steps: int, log: bool):
        self.path, self.every, self.log = Path(directory) / "last.ckpt", every_steps, log

    def _save(self, trainer):
        trainer.save_checkpoint(self.path)
        if self.log and trainer.is_global_zero:
            mlflow.log_artifact(str(self.path), ARTIFACT)

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        if self.every > 0 and trainer.global_step % self.every == 0 and not trainer.is_last_batch:
            self._save(trainer)

    def on_train_epoch_end(self, trainer, module):
        self._save(trainer)


def resume_checkpoint(config: TrainConfig, data_sha: str, destination: Path) -> str:
    """Check that run `config.resume` can be continued with this data and config; return its last checkpoint."""
    client = mlflow.tracking.MlflowClient()
    try:
        run = client.get_run(config.resume)
    except mlflow.exceptions.MlflowException:
        raise ForecastError(f"--resume {config.resume}: no such run in {mlflow.get_tracking_uri()}") from None
    if run.info.status == "FINISHED":
        raise ForecastError(f"--resume {config.resume}: the run finished; nothing to resume")
    if run.data.tags.get(DATA_TAG) != data_sha:
        raise ForecastError(f"--resume {config.resume}: {config.data_path} is not the data that run trained on "
                            "(its SHA-256 differs)")
    inferred = set(run.data.tags.get(INFERRED_TAG, "").split(","))   # logged as the value used, given as None
    changed = [f"{k} {run.data.params.get(k)!r} -> {str(v)!r}" for k, v in config.flat().items()
               if k not in NOT_COMPARED and run.data.params.get(k) != str(v) and not (v is None and k in inferred)]
    if changed:
        raise ForecastError(f"--resume {config.resume}: settings differ from the run's: {'; '.join(changed[:5])}")
    try:
        last = client.download_artifacts(config.resume, f"{ARTIFACT}/last.ckpt", str(destination))
    except (mlflow.exceptions.MlflowException, OSError):
        raise ForecastError(f"--resume {config.resume}: the run has no checkpoint yet (it stopped before its "
                            "first epoch ended); start a new run") from None
    best_dir = checkpoint_dir(config.resume)  # the best checkpoint so far, if the run logged it when it stopped
    for artifact in client.list_artifacts(config.resume, "checkpoints"):
        if artifact.path.endswith(".ckpt") and not (best_dir / Path(artifact.path).name).exists():
            best_dir.mkdir(parents=True, exist_ok=True)
            client.download_artifacts(config.resume, artifact.path, str(best_dir.parent / "_download"))
            (best_dir.parent / "_download" / artifact.path).rename(best_dir / Path(artifact.path).name)
    return last
