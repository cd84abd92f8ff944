"""Every run this product creates carries its version and git commit (MLflow's run-context plugin, setup.cfg)."""
import subprocess
from importlib import metadata

import mlflow

from forecast.pipelines.run_context import SOURCE


def test_a_run_is_tagged_with_the_product_version_and_its_git_commit(tracking_uri):
    mlflow.set_tracking_uri(tracking_uri)
    with mlflow.start_run() as run:
        pass
    tags = mlflow.MlflowClient().get_run(run.info.run_id).data.tags
    assert tags["forecast.version"] == metadata.version("forecast")
    if (SOURCE / ".git").exists():   # an editable install from a checkout
        head = subprocess.run(["git", "-C", str(SOURCE), "rev-parse", "HEAD"], capture_output=True, text=True)
        assert tags["forecast.git_commit"].removesuffix("-dirty") == head.stdout.strip()
