"""`forecast serve`: MLflow's scoring server (its own app, behind a request-size limit: asgi.py) on a
logged forecaster, started with the right environment.

What `mlflow models serve --env-manager local` does, with additions: the directory of this interpreter
(the venv's bin) goes in front of PATH, so the installed console script works without activating the venv;
the request guard's settings (size limit, API docs); and the version served, resolved once at the start, printed
and sent in every answer's `x-forecast-model` header. The process is replaced by uvicorn (exec), so signals reach
the server directly.
"""
import os
import sys
from pathlib import Path

from forecast.pipelines.config import ServeConfig
from forecast.pipelines.tracking import download_model, resolved, use_store


def _header_text(text: str) -> str:
    """The text as an HTTP header value: printable ASCII, at most 200 characters."""
    return "".join(c if " " <= c <= "~" else "?" for c in text)[:200]


def serve(config: ServeConfig, announce=print) -> None:
    from mlflow.pyfunc.scoring_server import get_cmd

    host, port, workers = config.host, config.port, config.workers
    uri = use_store(config.tracking_uri, reads=config.model_uri)
    local = download_model(config.model_uri)  # fail here, in one line, not inside the server
    served = resolved(config.model_uri)   # the version an alias names now: the one this server keeps answering with
    announce(f"Serving {served} on http://{host}:{port}/invocations (Ctrl-C stops)")
    _, env = get_cmd(str(local), port, host, None, workers)  # MLflow's own environment for its scoring app
    env.update(MLFLOW_TRACKING_URI=uri, FORECAST_MAX_REQUEST_BYTES=str(config.max_request_bytes),
               FORECAST_API_DOCS="1" if config.api_docs else "", FORECAST_SERVED_MODEL=_header_text(served),
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    # one request is a small forward pass: one thread per worker, parallelism from --workers (measured in
    # benchmarks/serving.py: 2 workers x 2 threads on 2 cores made every request slower)
    env.setdefault("OMP_NUM_THREADS", "1")
    uvicorn = str(Path(sys.executable).parent / "uvicorn")
    # --app-dir goes in front of sys.path (uvicorn's default is the working directory, which may hold anything)
    command = [uvicorn, "--host", host, "--port", str(port), "--workers", str(workers),
               "--app-dir", str(Path(uvicorn).parent),
               "--http", "forecast.pipelines.serving.slow_clients:HeadDeadlineProtocol",
               "forecast.pipelines.serving.asgi:app"]
    os.execve(uvicorn, command, env)
