"""Registry races: versions of one name registered by two processes at once, one of them paused or killed
between creating its version and labelling it (real processes on one sqlite store)."""
import signal
import subprocess
import sys
import time

import mlflow
import pytest

pytestmark = pytest.mark.slow   # process-level

# create a version of "raced", say so in a file, wait for the test's go (a file), then label it; a pause or a
# SIGKILL lands between the two steps, where a training's evaluation and model logging would be
SCRIPT = """
import sys, time
from pathlib import Path
import mlflow
from forecast.pipelines.tracking import label_version, use_store
store, source, created, go = sys.argv[1:5]
use_store(store)
client = mlflow.MlflowClient()
try:
    client.create_registered_model("raced")
except mlflow.exceptions.MlflowException:
    pass   # the other process made it
version = client.create_model_version("raced", source).version
Path(created).write_text(str(version))
while go != "-" and not Path(go).exists():
    time.sleep(0.05)
label_version("raced", version, "test MASE 1.0", {"frequency": "h"})
"""


def _wait_for(path, process, timeout=120):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.parametrize("first_ends", ["paused", "killed"])
def test_two_versions_registered_at_once_end_with_champion_first_and_challenger_newest(first_ends, tmp_path):
    """Before: a paused first left champion 2 and challenger 1 (both wrong); a killed one left no champion."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    (tmp_path / "model").mkdir()
    run = [sys.executable, "-c", SCRIPT, uri, str(tmp_path / "model")]
    first = subprocess.Popen([*run, str(tmp_path / "created1"), str(tmp_path / "go")], stderr=subprocess.PIPE,
                             text=True)
    try:
        _wait_for(tmp_path / "created1", first)
        second = subprocess.run([*run, str(tmp_path / "created2"), "-"], capture_output=True, text=True,
                                timeout=120)
        assert second.returncode == 0, second.stderr[-2000:]
        if first_ends == "killed":
            first.send_signal(signal.SIGKILL)
        else:
            (tmp_path / "go").touch()
        first.wait(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
    assert (tmp_path / "created1").read_text() == "1" and (tmp_path / "created2").read_text() == "2"
    client = mlflow.MlflowClient(uri)
    assert client.get_registered_model("raced").aliases == {"champion": 1, "challenger": 2}
