"""`forecast compare` end to end on tiny data: a parent run, nested runs per (aggregator, seed), a summary."""
import pytest
from click.testing import CliRunner
from mlflow.tracking import MlflowClient

from forecast.app.cli import main

pytestmark = pytest.mark.slow   # process-level: real servers, processes or Spark (CI runs it)


def test_compare_nests_one_run_per_aggregator_and_seed(tmp_path, make_frame, tracking_uri, tiny_model):
    make_frame(n_series=2, length=150).to_csv(tmp_path / "d.csv", index=False)
    result = CliRunner().invoke(main, ["compare", "--data", str(tmp_path / "d.csv"), "--aggregators", "mean,attention",
                                       "--seeds", "2", "--tracking-uri", tracking_uri, "--experiment", "cmp",
                                       "--max-epochs", "1", "--seq-len", "12", "--horizon", "6", "--health-every", "2",
                                       *tiny_model])
    assert result.exit_code == 0, result.output
    assert "4 runs nested under" in result.output
    client = MlflowClient(tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name("cmp").experiment_id])
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    rows = {line.split()[0]: line.split() for line in result.output.splitlines()
            if line.split()[:1] in (["mean"], ["attention"])}
    for name, row in rows.items():   # the printed table is the logged summary: mean +- std of each aggregator's MASE
        assert row[1:4] == [f"{parent.data.metrics[f'{name}/test_mase_mean']:.4g}", "+-",
                            f"{parent.data.metrics[f'{name}/test_mase_std']:.4g}"], row
    assert sorted(rows) == ["attention", "mean"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert sorted((c.data.params["model.aggregator"], c.data.params["seed"]) for c in children) == \
        [("attention", "0"), ("attention", "1"), ("mean", "0"), ("mean", "1")]
    assert all(c.info.status == "FINISHED" and "health.status" in c.data.tags for c in children)
    assert all(c.data.tags.get("forecast.kind") == "compare" for c in children)
    assert "mean/test_mase_mean" in parent.data.metrics and "attention/steps_to_converge" in parent.data.metrics
    logged = {a.path for a in client.list_artifacts(parent.info.run_id, "compare")}
    assert {"compare/summary.csv", "compare/runs.csv"} <= logged
    registered = (client.search_model_versions("name='forecaster'")
                  if client.search_registered_models(filter_string="name='forecaster'") else [])
    assert all(v.run_id not in {c.info.run_id for c in children} for v in registered)
