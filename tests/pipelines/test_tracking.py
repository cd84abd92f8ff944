"""The store: a new sqlite store created by two processes at once."""
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow   # process-level

SCRIPT = """
import sys, mlflow
from forecast.pipelines.tracking import use_store
use_store(sys.argv[1], "race")
with mlflow.start_run():
    mlflow.log_metric("m", 1.0)
"""


def test_two_processes_creating_one_new_sqlite_store_both_finish(tmp_path):
    """Both ran MLflow's migrations on the new file and one died in alembic, its run lost (issue 24, case 6)."""
    for attempt in range(2):
        uri = f"sqlite:///{tmp_path / f'store{attempt}.db'}"
        processes = [subprocess.Popen([sys.executable, "-c", SCRIPT, uri], stderr=subprocess.PIPE, text=True)
                     for _ in range(2)]
        for process in processes:
            _, err = process.communicate(timeout=120)
            assert process.returncode == 0, err[-2000:]
    assert not list(tmp_path.glob("*.lock"))
