"""Shared fixtures: tiny seeded synthetic series and a temporary MLflow store per test session."""
import os
import sys

import numpy as np
import pandas as pd
import pytest

TINY_MODEL = ["--layers", "1", "--d-model", "16", "--n-heads", "2", "--batch-size", "64", "--no-progress"]


def synthetic_frame(n_series: int = 3, length: int = 120, freq: str = "h", covariates: int = 1, seed: int = 0,
               start: str = "2024-01-01") -> pd.DataFrame:
    """Long-format frame: series_id, timestamp, value (daily cycle + noise), cov0..covN."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_series):
        t = pd.date_range(start, periods=length, freq=freq)
        phase = np.arange(length) * 2 * np.pi / 24
        frame = pd.DataFrame({"series_id": f"s{i}", "timestamp": t,
                              "value": 10 * (i + 1) + 3 * np.sin(phase) + rng.normal(0, 0.3, length)})
        for c in range(covariates):
            frame[f"cov{c}"] = np.cos(phase + c) + rng.normal(0, 0.1, length)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _reset_mlflow() -> None:
    """MLflow keeps the tracking URI (exported as $MLFLOW_TRACKING_URI, which `--tracking-uri` reads), the active
    experiment (exported as $MLFLOW_EXPERIMENT_ID) and the active runs in process globals."""
    if "mlflow" in sys.modules:
        import mlflow
        from mlflow.tracking import fluent

        while mlflow.active_run():
            mlflow.end_run()
        mlflow.set_tracking_uri(None)
        fluent._active_experiment_id = None   # no public API clears it
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
        os.environ.pop(name, None)


@pytest.fixture(autouse=True)
def fresh_mlflow_state():
    """Every test starts and ends with no tracking URI, experiment or run left by another."""
    _reset_mlflow()
    yield
    _reset_mlflow()


@pytest.fixture(scope="session")
def make_frame():
    """The synthetic frame factory (a fixture, so test modules need no import path to it)."""
    return synthetic_frame


@pytest.fixture(scope="session")
def tiny_model() -> tuple[str, ...]:
    return tuple(TINY_MODEL)


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("mlflow")


@pytest.fixture
def tracking_uri(store_dir, monkeypatch) -> str:
    """One sqlite store for the session (a fresh database costs 1-2 s); tests use distinct model names.

    The test runs inside the store's folder: MLflow puts a sqlite store's artifacts in ./mlruns.
    """
    monkeypatch.chdir(store_dir)
    return f"sqlite:///{store_dir / 'mlflow.db'}"


def wait_for_run(process, client, ready, timeout: float = 240.0) -> str:
    """Poll the store while `process` trains until `ready(run_id)` holds for the experiment's run; its id.

    Fails with the process's stderr if it exits first, or after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.2)
        assert process.poll() is None, process.communicate()[1][-3000:]
        experiment = client.get_experiment_by_name("forecast")
        runs = client.search_runs([experiment.experiment_id]) if experiment else []
        if runs and ready(runs[0].info.run_id):
            return runs[0].info.run_id
    raise AssertionError(f"training did not reach the awaited state within {timeout:.0f}s")


@pytest.fixture
def training_run():
    """`wait_for_run` as a fixture (test modules import nothing from here)."""
    return wait_for_run


def pytest_collection_modifyitems(items):
    """The process-level (`slow`) tests first: with one pytest-xdist worker per core they then overlap the many
    short tests, instead of one of them running alone on one core at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
