"""`forecast serve`: MLflow's own scoring server on a logged forecaster, started with the right environment.

The scoring server runs `uvicorn` from PATH, so the directory of this interpreter (the venv's bin) goes in
front of PATH: the installed console script works without activating the venv. The process is replaced by
MLflow's (exec), so signals reach the server directly.
"""
import os
import sys
from pathlib import Path

from pipelines.errors import ForecastError
from pipelines.tracking import use_store


def serve_command(model_uri: str, host: str, port: int, workers: int) -> list[str]:
    return [sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri, "--env-manager", "local",
            "--host", host, "--port", str(port), "--workers", str(workers)]


def serve(model_uri: str, host: str = "127.0.0.1", port: int = 5000, workers: int = 1,
          tracking_uri: str | None = None) -> None:
    import mlflow

    uri = use_store(tracking_uri)
    try:
        mlflow.models.get_model_info(model_uri)  # fail here, in one line, not inside the server
    except (mlflow.exceptions.MlflowException, OSError) as err:
        message = getattr(err, "message", str(err)).splitlines()[0]
        raise ForecastError(f"cannot load model {model_uri!r} from {uri}: {message}") from None
    env = dict(os.environ, MLFLOW_TRACKING_URI=uri,
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    # one request is a small forward pass: one thread per worker, parallelism from --workers (measured in
    # benchmarks/serving.py: 2 workers x 2 threads on 2 cores made every request slower)
    env.setdefault("OMP_NUM_THREADS", "1")
    command = serve_command(model_uri, host, port, workers)
    os.execve(command[0], command, env)
