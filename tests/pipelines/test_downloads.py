"""Logged models are downloaded once per process and store: a registry version's files never change, and an alias
is resolved to its version at every call."""
import mlflow
from mlflow.tracking import MlflowClient

from forecast.pipelines import tracking


class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input):
        return model_input


def test_a_version_is_downloaded_once_and_an_alias_that_moves_follows_its_version(tracking_uri, monkeypatch):
    tracking.use_store(tracking_uri, "downloads")
    for _ in range(2):
        with mlflow.start_run():
            mlflow.pyfunc.log_model(name="model", python_model=Echo(), registered_model_name="echo")
    client = MlflowClient()
    client.set_registered_model_alias("echo", "champion", "1")
    real, calls = mlflow.artifacts.download_artifacts, []
    monkeypatch.setattr(mlflow.artifacts, "download_artifacts",
                        lambda uri, *a, **k: calls.append(uri) or real(uri, *a, **k))
    first = tracking.download_model("models:/echo@champion")
    assert tracking.download_model("models:/echo/1") == first and calls == ["models:/echo/1"]
    client.set_registered_model_alias("echo", "champion", "2")
    assert tracking.download_model("models:/echo@champion") != first
    assert tracking.download_model("models:/echo/latest") == tracking.download_model("models:/echo/2")
    assert calls == ["models:/echo/1", "models:/echo/2"]
