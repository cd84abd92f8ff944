"""The best checkpoint kept when training stops, including when the stop lands mid-save."""
import time
from types import SimpleNamespace

import mlflow
from mlflow.tracking import MlflowClient

from forecast.pipelines.training.train import _keep_best


def _checkpoint(path, score=0.5):
    return SimpleNamespace(best_model_path=str(path), best_model_score=score)


def _kept(run_id):
    return [a.path for a in MlflowClient().list_artifacts(run_id, "checkpoints")]


def test_an_interrupt_before_the_new_best_is_written_keeps_the_previous_best(tmp_path, tracking_uri):
    mlflow.set_tracking_uri(tracking_uri)
    (tmp_path / "epoch=0-step=10.ckpt").write_bytes(b"older")
    time.sleep(0.01)
    (tmp_path / "epoch=1-step=20.ckpt").write_bytes(b"previous best")
    (tmp_path / "last.ckpt").write_bytes(b"resume state, not a best model")
    with mlflow.start_run() as run:  # ModelCheckpoint already names epoch 2, whose file was never written
        message = _keep_best(_checkpoint(tmp_path / "epoch=2-step=30.ckpt"))
    assert _kept(run.info.run_id) == ["checkpoints/epoch=1-step=20.ckpt"]
    assert "checkpoints/epoch=1-step=20.ckpt" in message and "completely written" in message


def test_the_named_best_is_kept_with_its_score(tmp_path, tracking_uri):
    mlflow.set_tracking_uri(tracking_uri)
    (tmp_path / "epoch=3-step=40.ckpt").write_bytes(b"best")
    with mlflow.start_run() as run:
        message = _keep_best(_checkpoint(tmp_path / "epoch=3-step=40.ckpt", 0.25))
    assert _kept(run.info.run_id) == ["checkpoints/epoch=3-step=40.ckpt"]
    assert "val_loss 0.25" in message


def test_nothing_written_yet_is_said_not_raised(tmp_path, tracking_uri):
    mlflow.set_tracking_uri(tracking_uri)
    with mlflow.start_run() as run:
        message = _keep_best(_checkpoint(tmp_path / "epoch=0-step=10.ckpt"))
    assert _kept(run.info.run_id) == [] and "no checkpoint had been written" in message
