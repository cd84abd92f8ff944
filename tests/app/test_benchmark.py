"""`forecast benchmark` end to end on tiny data: ours, pytorch-forecasting's and statsmodels' peers, one table,
nested runs."""
import pytest
from click.testing import CliRunner
from mlflow.tracking import MlflowClient

from forecast.app.cli import main

pytestmark = pytest.mark.slow   # process-level: real servers, processes or Spark (CI runs it)


def test_benchmark_scores_every_model_on_the_same_windows(tmp_path, make_frame, tracking_uri, tiny_model):
    make_frame(n_series=2, length=150).to_csv(tmp_path / "d.csv", index=False)
    result = CliRunner().invoke(main, ["benchmark", "--data", str(tmp_path / "d.csv"), "--tracking-uri", tracking_uri,
                                       "--experiment", "bench", "--max-epochs", "1", "--seq-len", "12",
                                       "--horizon", "6",
                                       "--seeds", "1", *tiny_model])
    assert result.exit_code == 0, result.output
    for label in ("forecast (ours)", "pf Baseline", "pf NHiTS", "pf TemporalFusionTransformer", "statsmodels ETS",
                  "statsmodels Theta", "member: fast ETS", "member: drift", "seasonal naive"):
        assert label in result.output
    client = MlflowClient(tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name("bench").experiment_id])
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = {r.data.tags["forecast.benchmark_model"]: r for r in runs
                if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id}
    assert sorted(children) == ["baseline", "drift", "ets", "ets_fast", "forecast", "nhits", "tft", "theta"]
    assert all(c.info.status == "FINISHED" for c in children.values())
    # pytorch-forecasting's Baseline repeats the last value: on exactly our test windows it is our naive forecast
    baseline = children["baseline"].data.metrics
    assert baseline["accuracy/test_mase"] == pytest.approx(baseline["accuracy/baselines/naive_mase"], rel=1e-6)
    # every model is scored against the same actual values: the naive baselines agree across runs
    assert len({round(c.data.metrics["accuracy/baselines/snaive_mase"], 9) for c in children.values()}) == 1
    # the same budget for every trained model
    peer_epochs = {children[m].data.params["budget.max_epochs"] for m in ("nhits", "tft")}
    assert peer_epochs == {children["forecast"].data.params["max_epochs"]}
    assert {children[m].data.params["budget.batch_size"] for m in ("nhits", "tft")} == \
        {children["forecast"].data.params["batch_size_resolved"]}
    assert "health.status" in children["forecast"].data.tags  # ours is a full training run, logged not registered
    # the table's parameter count for ours is TrainResult's, the one the run logged
    assert f"{int(children['forecast'].data.params['n_parameters']):,}" in result.output
    assert all(v.run_id != children["forecast"].info.run_id for v in client.search_model_versions("name='forecaster'"))
    # by default the test part is as long as validation: ceil(0.1 * 150) = 15 rows -> 2 origins of 6 per series
    assert parent.data.params["test_windows"] == "2" and parent.data.params["test_windows_source"] == "validation-sized"
    assert "test: 2 window(s) per series" in result.output
    assert "nhits/mase" in parent.data.metrics and "forecast/mase" in parent.data.metrics
    logged = {a.path for a in client.list_artifacts(parent.info.run_id, "benchmark")}
    assert {"benchmark/table.csv", "benchmark/runs.csv"} <= logged


def test_an_unknown_peer_is_one_line_and_no_run(tmp_path, make_frame, tracking_uri):
    make_frame(n_series=1, length=150).to_csv(tmp_path / "d.csv", index=False)
    result = CliRunner().invoke(main, ["benchmark", "--data", str(tmp_path / "d.csv"), "--peers", "nhits,prophet",
                                       "--tracking-uri", tracking_uri, "--experiment", "bench-bad"])
    assert result.exit_code == 1
    assert ("--peers must name some of baseline, nhits, tft, ets, theta, ets_fast, drift (got nhits,prophet)"
            in result.output)
    assert MlflowClient(tracking_uri).get_experiment_by_name("bench-bad") is None


@pytest.mark.parametrize("value", ["0", "some"])
def test_test_windows_must_be_auto_or_positive(tmp_path, make_frame, tracking_uri, value):
    make_frame(n_series=1, length=150).to_csv(tmp_path / "d.csv", index=False)
    result = CliRunner().invoke(main, ["benchmark", "--data", str(tmp_path / "d.csv"), "--test-windows", value,
                                       "--tracking-uri", tracking_uri, "--experiment", "bench-bad"])
    assert result.exit_code == 2 and f"expected auto or a positive integer, got '{value}'" in result.output
    assert MlflowClient(tracking_uri).get_experiment_by_name("bench-bad") is None


def test_a_peer_fed_two_all_zero_columns_is_diagnosed_by_name(tmp_path, make_frame, tracking_uri, tiny_model):
    """The generic gradient-health monitor watches every trained peer: NHiTS' dead inputs are named as the
    user's columns, in the table's health column and the diagnoses under it, and on the peer's run."""
    frame = make_frame(n_series=2, length=150, covariates=3).rename(columns={"cov1": "zero_a", "cov2": "zero_b"})
    frame[["zero_a", "zero_b"]] = 0.0
    frame.to_csv(tmp_path / "d.csv", index=False)
    result = CliRunner().invoke(main, ["benchmark", "--data", str(tmp_path / "d.csv"), "--tracking-uri", tracking_uri,
                                       "--experiment", "zeros", "--peers", "baseline,nhits", "--max-epochs", "2",
                                       "--seq-len", "12", "--horizon", "6", "--seeds", "1", "--health-every", "1",
                                       *tiny_model])
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if line.startswith("model"))
    assert header.split()[-1] == "health"
    nhits = next(line for line in result.output.splitlines() if line.startswith("  pf NHiTS:"))
    assert "dead_input: zero_a" in nhits and "dead_input: zero_b" in nhits and "cov0" not in nhits
    row = next(line for line in result.output.splitlines() if line.startswith("pf NHiTS"))
    assert row.split()[-1] == "warning"
    assert next(line for line in result.output.splitlines() if line.startswith("pf Baseline")).split()[-1] == "-"
    client = MlflowClient(tracking_uri)
    (run,) = [r for r in client.search_runs([client.get_experiment_by_name("zeros").experiment_id])
              if r.data.tags.get("forecast.benchmark_model") == "nhits"]
    assert run.data.tags["health.status"] == "warning" and "dead_input:zero_a" in run.data.tags["health.diagnoses"]
