"""The real CLI end to end: train -> MLflow run + registered model -> predict, on tiny data."""
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import mlflow
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from mlflow.tracking import MlflowClient

from forecast.app.cli import main


def _train(tmp_path, frame, tracking_uri, model_name, *extra):
    path = tmp_path / "sales.csv"
    frame.to_csv(path, index=False)
    args = ["train", "--data", str(path), "--tracking-uri", tracking_uri, "--model-name", model_name,
            "--experiment", model_name, "--max-epochs", "2", "--seq-len", "12", "--horizon", "6", *extra]
    return CliRunner().invoke(main, args)


@pytest.fixture(scope="module")
def e2e(store_dir, tmp_path_factory, make_frame, tiny_model):
    """One tiny model trained through the CLI (models:/e2e/1), read back by the tests below (one module runs on
    one worker: scripts/test.sh; training is their cost): the train command's result, its frame, and a folder
    with it as history.csv."""
    folder = tmp_path_factory.mktemp("e2e")
    frame = make_frame(n_series=2, length=150)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(store_dir)   # as `tracking_uri` does: a sqlite store's artifacts go to ./mlruns
        result = _train(folder, frame, f"sqlite:///{store_dir / 'mlflow.db'}", "e2e", *tiny_model)
    frame.to_csv(folder / "history.csv", index=False)
    return SimpleNamespace(result=result, frame=frame, folder=folder, history=str(folder / "history.csv"))


def _predict(e2e, tracking_uri, output, *extra):
    return CliRunner().invoke(main, ["predict", "--model", "models:/e2e/latest", "--data", e2e.history,
                                     "--output", str(output), "--tracking-uri", tracking_uri, *extra])


def test_train_prints_what_it_did_and_logs_everything(e2e, tracking_uri, tmp_path):
    result = e2e.result
    assert result.exit_code == 0, result.output
    assert "seasonal naive" in result.output and "registered models:/e2e/1" in result.output
    # output to a file, not a terminal: a line per epoch, no progress bar; why it stopped; the test's size and
    # the interval's nominal level; where to look
    lines = result.output.splitlines()
    epochs = [line.split(":")[1].strip()[:9] for line in lines if line.startswith("info: epoch ")]
    assert epochs == ["epoch 1/2", "epoch 2/2"]
    assert "\r" not in result.output and "it/s" not in result.output
    assert any(line.startswith("Stopped by the epoch cap (2, --max-epochs)") for line in lines)
    assert "test: 2 window(s) of 6 steps over 2 series" in result.output and "(nominal 0.8)" in result.output
    assert result.stdout.splitlines()[-1].startswith(f"See it: mlflow ui --port 5050 --backend-store-uri "
                                                     f"{tracking_uri}, then open http://127.0.0.1:5050/#/experiments/")
    assert result.stdout.splitlines()[-1].endswith("?workflowType=machine_learning")

    client = MlflowClient(tracking_uri)
    (version,) = client.search_model_versions("name='e2e'")
    run = client.get_run(version.run_id)
    assert run.info.status == "FINISHED" and run.data.tags["forecast.stopped"].startswith("the epoch cap (2")
    assert run.data.tags["forecast.version"] == "0.1.0"   # and the git commit: tests/pipelines/test_run_context.py
    params, metrics = run.data.params, run.data.metrics
    assert params["data.seq_len"] == "12" and params["model.layers"] == "1" and params["data.frequency"] == "h"
    # settings inferred from the data show the value used, not None, and a tag names them
    assert params["data.season_length"] == "24"
    assert params["data.covariates"] == "cov0"
    assert params["data.target"] == "value"
    inferred = "data.covariates,data.id_col,data.season_length,data.target,data.time_col"
    assert run.data.tags["forecast.inferred"] == inferred
    for key in ("test_mae", "test_rmse", "test_smape", "test_mase", "test_pinball", "test_coverage_q0.1_q0.9",
                "baselines/naive_mase", "baselines/snaive_mase", "baselines/snaive_mae"):
        assert f"accuracy/{key}" in metrics, key   # the sections MLflow's run page charts first
    assert "best_val_loss" in metrics and "test_mase" not in metrics
    assert len(client.get_metric_history(run.info.run_id, "val_loss")) == 2
    # the logged model carries the test score (its final values), not the first gradient check
    (logged,) = [m for m in client.search_logged_models([run.info.experiment_id]) if m.source_run_id == run.info.run_id]
    linked = {m.key: m.value for m in logged.metrics}
    assert linked == {k: v for k, v in metrics.items() if k.startswith("accuracy/")}
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"data_report.json", "plots", "evaluation"} <= artifacts
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/test_forecasts.png", "plots/loss.png"} <= plots
    report = json.loads(open(client.download_artifacts(run.info.run_id, "data_report.json", str(tmp_path))).read())
    assert report["series"] == 2 and report["covariates"] == ["cov0"]


def test_predict_writes_the_horizon_and_quantiles_asked_for(e2e, tracking_uri, tmp_path):
    out = tmp_path / "next.csv"
    result = _predict(e2e, tracking_uri, out)
    assert result.exit_code == 0, result.output
    assert f"Wrote 12 rows (2 series x 6 steps) to {out} with models:/e2e/latest (version 1 of e2e, run " \
        in result.output
    forecasts = pd.read_csv(out)
    deciles = [f"q0.{k}" for k in range(1, 10)]                           # the nine deciles by default
    assert list(forecasts.columns) == ["series_id", "timestamp", "step", "prediction", *deciles, "method"]
    assert len(forecasts) == 2 * 6
    assert forecasts.groupby("series_id")["step"].apply(list).tolist() == [list(range(1, 7))] * 2
    assert forecasts["timestamp"].iloc[0] == str(e2e.frame["timestamp"].max() + pd.Timedelta(hours=1))
    # the horizon and the quantiles chosen at predict time
    result = _predict(e2e, tracking_uri, out, "--horizon", "2", "--quantiles", "0.25,0.9")
    assert result.exit_code == 0, result.output
    assert list(pd.read_csv(out).columns)[4:6] == ["q0.25", "q0.9"] and len(pd.read_csv(out)) == 2 * 2
    # levels that agree to 6 digits keep a column each (both came back as one q0.333333)
    result = _predict(e2e, tracking_uri, out, "--quantiles", "0.3333331,0.3333334")
    assert result.exit_code == 0, result.output
    assert list(pd.read_csv(out).columns)[4:6] == ["q0.3333331", "q0.3333334"]
    for args, message in ((["--horizon", "7"], "horizon must be a whole number from 1 to 6"),
                          (["--quantiles", "0.1,x"], "expected comma-separated float values"),
                          (["--quantiles", "0.5,0.5"], "quantiles: 0.5 given twice")):
        result = _predict(e2e, tracking_uri, out, *args)
        assert result.exit_code != 0 and message in result.output, result.output


def test_an_output_that_cannot_be_written_is_refused_before_the_forecast(e2e, tracking_uri, tmp_path):
    """In one line (it was a traceback after the forecast)."""
    (tmp_path / "a_file").write_text("x")
    for output, message in ((tmp_path, "is a directory"),
                            (tmp_path / "a_file" / "f.csv", "a_file is a file, not a folder"),
                            (tmp_path / "f.xlsx", "forecasts are written as CSV"), (tmp_path / "f.json", "or Parquet")):
        result = _predict(e2e, tracking_uri, output)
        assert result.exit_code == 1, result.output
        assert result.output.startswith(f"Error: {output}") and message in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "f.xlsx").exists()


def test_a_huge_id_with_a_terminal_escape_is_cut_and_escaped_wherever_it_is_echoed(e2e, tracking_uri, tmp_path):
    """A 200 kB series id was printed whole in two warnings and the preview, its escape sequence raw."""
    huge = "\x1b[31m" + "z" * 200_000
    history = pd.concat([e2e.frame, e2e.frame.head(10).assign(series_id=huge)])
    history.to_csv(tmp_path / "huge.csv", index=False)
    result = CliRunner().invoke(main, ["predict", "--model", "models:/e2e/latest", "--data", str(tmp_path / "huge.csv"),
                                       "--output", str(tmp_path / "f.csv"), "--tracking-uri", tracking_uri])
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) < 300 and "\x1b" not in result.output
    assert "'\\x1b[31mzzz" in result.output and "... (200,005 characters)" in result.output
    assert (pd.read_csv(tmp_path / "f.csv")["series_id"] == huge).sum() == 6   # the file keeps it whole


def test_a_1_mb_cell_is_cut_in_the_refusal(tmp_path, make_frame):
    frame = make_frame(n_series=1, length=60).astype({"value": object})
    frame.loc[5, "value"] = "x" * 1_000_000
    frame.to_csv(tmp_path / "big.csv", index=False)
    result = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "big.csv")])
    assert result.exit_code == 1 and len(result.output) < 300, result.output[:500]
    assert "column 'value' has non-numeric values, e.g. 'xxx" in result.output
    assert "... (1,000,000 characters)' in series 's0' at data row(s) 6" in result.output


def test_backtest_logs_its_run_and_says_its_origins_lie_in_the_training_data(e2e, tracking_uri):
    result = CliRunner().invoke(main, ["backtest", "--model", "models:/e2e/1", "--data", e2e.history,
                                       "--windows", "2", "--experiment", "e2e", "--tracking-uri", tracking_uri])
    assert result.exit_code == 0, result.output
    assert "Backtest: 2 series x 2 origin(s)" in result.output and "seasonal naive" in result.output
    # on its own training file: the earlier origins lie inside the data its weights saw (said in one line), the
    # last is its held-out test part
    assert "warning: 2 of 4 backtest origins lie inside the data the model's weights saw (up to" in result.output
    client = MlflowClient(tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name("e2e").experiment_id])
    (backtest_run,) = [r for r in runs if r.data.tags.get("forecast.kind") == "backtest"]
    assert {"accuracy/backtest_mase", "accuracy/baselines/snaive_mase"} <= set(backtest_run.data.metrics)
    assert backtest_run.data.tags["forecast.model"].startswith("models:/e2e/1 (version 1 of e2e, run ")
    (dataset,) = backtest_run.inputs.dataset_inputs   # the file it was scored on
    assert dataset.dataset.name == "history.csv" and dataset.tags[0].value == "backtest"
    saved = {a.path for a in client.list_artifacts(backtest_run.info.run_id, "backtest")}
    assert {"backtest/accuracy.json", "backtest/per_series.csv", "backtest/forecasts.csv"} <= saved


def test_the_logged_model_predicts_in_a_fresh_process_beside_a_notebooks_own_modules(e2e, tracking_uri, tmp_path):
    """Outside the repository: a notebook's folder with its own models.py and data.py, imported first; the
    installed package is usable beside them."""
    fresh = tmp_path / "notebook"
    fresh.mkdir()
    for module in ("data", "models"):
        (fresh / f"{module}.py").write_text("WHO = 'someone else'\n")
    script = textwrap.dedent(f"""
        import data, models, mlflow, pandas as pd
        from forecast.pipelines.serving.predict import forecast_with
        model = mlflow.pyfunc.load_model("models:/e2e/1")
        out = model.predict(pd.read_csv({e2e.history!r}))
        assert forecast_with(model, pd.read_csv({e2e.history!r})).equals(out)
        assert data.WHO == models.WHO == 'someone else'
        import json; print(json.dumps({{"rows": len(out), "cols": list(out.columns)}}))
    """)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"MLFLOW_TRACKING_URI": tracking_uri}
    proc = subprocess.run([sys.executable, "-c", script], cwd=fresh, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    answer = json.loads(proc.stdout.strip().splitlines()[-1])
    assert answer["rows"] == 12 and answer["cols"][-1] == "method"


def test_a_failure_after_the_run_starts_marks_it_failed_and_registers_nothing(tmp_path, make_frame, tracking_uri,
                                                                               tiny_model, monkeypatch):
    import forecast.pipelines.training.train

    def broken(*args, **kwargs):
        raise RuntimeError("evaluation exploded")

    monkeypatch.setattr(forecast.pipelines.training.train, "evaluate", broken)
    result = _train(tmp_path, make_frame(n_series=1, length=150), tracking_uri, "broken", *tiny_model)
    assert result.exit_code != 0 and isinstance(result.exception, RuntimeError)
    client = MlflowClient(tracking_uri)
    (run,) = client.search_runs([client.get_experiment_by_name("broken").experiment_id])
    assert run.info.status == "FAILED"
    assert client.search_model_versions("name='broken'") == []


@pytest.mark.parametrize("name", ["a/b", "", "../../etc/x", "..", "a:b"])
def test_a_model_name_the_registry_refuses_is_refused_before_training(name, tmp_path, make_frame, tracking_uri):
    """It trained to the end, then an MlflowException traceback at registration and the run FAILED."""
    make_frame(n_series=1, length=150).to_csv(tmp_path / "d.csv", index=False)
    result = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "d.csv"), "--model-name", name,
                                       "--tracking-uri", tracking_uri, "--experiment", "badname"])
    assert result.exit_code == 1 and result.output.startswith(f"Error: --model-name {name!r}: not a registered model "
                                                              "name"), result.output
    assert len(result.output.strip().splitlines()) == 1
    assert MlflowClient(tracking_uri).get_experiment_by_name("badname") is None


def test_bad_options_fail_before_reading_data(tmp_path):
    result = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "missing.csv"), "--seq-len", "0"])
    assert result.exit_code == 1 and "--seq-len must be a positive integer" in result.output
    result = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "missing.csv")])
    assert result.exit_code == 1 and "missing.csv: no such file" in result.output


def test_single_series_with_integer_time_in_parquet(tmp_path, make_frame, tracking_uri, tiny_model):
    frame = make_frame(n_series=1, length=120, covariates=0).drop(columns=["series_id"])
    frame = frame.assign(timestamp=range(1000, 1120)).rename(columns={"timestamp": "time", "value": "y"})
    frame.to_parquet(tmp_path / "one.parquet", index=False)
    result = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "one.parquet"), "--tracking-uri", tracking_uri,
                                       "--model-name", "intsingle", "--max-epochs", "1", "--seq-len", "8", *tiny_model])
    assert result.exit_code == 0, result.output
    assert "horizon 10 (frequency)" in result.output and "Covariates used: none" in result.output
    out = tmp_path / "next.parquet"
    result = CliRunner().invoke(main, ["predict", "--model", "models:/intsingle/latest", "--data",
                                       str(tmp_path / "one.parquet"), "--output", str(out), "--tracking-uri",
                                       tracking_uri])
    assert result.exit_code == 0, result.output
    forecasts = pd.read_parquet(out)
    assert forecasts["timestamp"].tolist() == list(range(1120, 1130)) and set(forecasts["series_id"]) == {"series_0"}


def test_all_zero_covariates_are_warned_then_diagnosed_and_reported(tmp_path, make_frame, tracking_uri):
    frame = make_frame(n_series=2, length=150, covariates=3).rename(columns={"cov1": "dead_a", "cov2": "dead_b"})
    frame[["dead_a", "dead_b"]] = 0.0
    # no covariate dropout: hidden in a batch, the live cov0 reads as zero there too, and which batches hide it
    # depends on the random stream (the nine-decile head drew another one, and cov0 was zero at the last check)
    result = _train(tmp_path, frame, tracking_uri, "deadcols", "--layers", "1", "--d-model", "16", "--n-heads", "2",
                    "--batch-size", "32", "--no-progress", "--health-every", "2", "--max-epochs", "3",
                    "--covariate-dropout", "0")
    assert result.exit_code == 0, result.output
    output = result.output
    warned = output.index("'dead_a' is all zero in the training part")
    assert warned < output.index("feature 'dead_a' is all zero in training windows")
    client = MlflowClient(tracking_uri)
    (version,) = client.search_model_versions("name='deadcols'")
    run = client.get_run(version.run_id)
    assert run.data.tags["health.status"] == "warning"
    assert run.data.tags["health.diagnoses"] == "dead_input:dead_a, dead_input:dead_b"
    n_inputs = len(run.data.tags["forecast.features"].split(","))   # target, 2 dead + 1 live covariate, lag, calendar
    assert n_inputs == 9 and run.data.metrics["health/projection_zero_frac_final"] == pytest.approx(2 / n_inputs)
    for key in ("grad/temporal_projection/norm", "input/dead_a/grad_col_norm", "time/last_quarter_share",
                "ffn/dead_frac_max", "attn/entropy_min", "agg/entropy", "health/loss_baseline_ratio",
                "grad/update_ratio_max", "grad/rel_init_min", "health/steps_to_converge"):
        assert key in run.data.metrics, key
    assert run.data.metrics["input/dead_a/grad_col_norm"] == 0.0 and run.data.metrics["input/cov0/grad_col_norm"] > 0
    # MLflow charts each per-layer measure at its worst layer; every layer's value is in the detail table
    assert not [k for k in run.data.metrics if re.search(r"layer\d|grad/head/|/zero_share", k)]
    checks = pd.read_csv(client.download_artifacts(run.info.run_id, "health/checks.csv", str(tmp_path)))
    history = client.get_metric_history(run.info.run_id, "attn/entropy_min")
    assert list(checks["step"]) == [m.step for m in history]
    layers = checks.filter(regex=r"^attn/layer\d+/entropy$")                  # --layers 1: one layer
    assert layers.shape[1] == 1
    np.testing.assert_allclose(layers.min(axis=1), [m.value for m in history])
    assert {"grad/head/update_ratio", "input/dead_a/zero_share"} <= set(checks.columns)
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/gradient_flow.png", "plots/timestep_share.png", "plots/aggregator_weights.png"} <= plots

    printed = CliRunner().invoke(main, ["health", run.info.run_id, "--tracking-uri", tracking_uri])
    assert printed.exit_code == 0, printed.output
    stored = open(client.download_artifacts(run.info.run_id, "gradient_health.md", str(tmp_path))).read()
    assert printed.output == stored
    assert printed.output.startswith("# Gradient health: WARNING")
    assert f"{2 / n_inputs:.2%} / {2 / n_inputs:.2%}" in printed.output
    missing = CliRunner().invoke(main, ["health", "0" * 32, "--tracking-uri", tracking_uri])
    assert missing.exit_code == 1 and "no run '000" in missing.output


def test_non_finite_loss_stops_the_run_failed_with_the_checkpoint_kept(tmp_path, make_frame, tracking_uri, tiny_model,
                                                                        monkeypatch):
    from forecast.models.lightning import ForecastModule

    original = ForecastModule.training_step

    def poisoned(self, batch, batch_idx):
        loss = original(self, batch, batch_idx)
        return loss * float("nan") if self.current_epoch >= 1 else loss

    monkeypatch.setattr(ForecastModule, "training_step", poisoned)
    result = _train(tmp_path, make_frame(n_series=1, length=150), tracking_uri, "nan", *tiny_model)
    assert result.exit_code == 1, result.output
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("Error: training stopped: non-finite gradient in model.temporal_projection.linear.weight")
    assert "is marked FAILED" in line and "kept as the run artifact checkpoints/" in line
    client = MlflowClient(tracking_uri)
    (run,) = client.search_runs([client.get_experiment_by_name("nan").experiment_id])
    assert run.info.status == "FAILED" and client.search_model_versions("name='nan'") == []
    assert any(a.path.endswith(".ckpt") for a in client.list_artifacts(run.info.run_id, "checkpoints"))
    assert "gradient_health.json" in {a.path for a in client.list_artifacts(run.info.run_id)}


def test_a_step_budget_shorter_than_an_epoch_still_validates_and_registers(tmp_path, make_frame, tracking_uri,
                                                                           tiny_model):
    result = _train(tmp_path, make_frame(n_series=3, length=200), tracking_uri, "fewsteps", *tiny_model,
                    "--batch-size", "8", "--max-steps", "3")
    assert result.exit_code == 0, result.output
    client = MlflowClient(tracking_uri)
    run = client.get_run(client.search_model_versions("name='fewsteps'")[0].run_id)
    assert run.data.metrics["steps"] == 3 and "best_val_loss" in run.data.metrics


def test_a_file_of_integer_columns_trains_and_predicts_through_the_cli_and_the_pyfunc(tmp_path, make_frame,
                                                                                      tracking_uri, tiny_model):
    """Counts as the target, a 0/1 flag and a weekday as covariates, all int64 when read back: MLflow refuses
    int64 for a double column of a signature, so this file once trained and then could not be forecast."""
    frame = make_frame(n_series=2, length=150)
    frame["value"] = frame["value"].round().astype("int64")
    frame["promo"] = (frame.index % 5 == 0).astype("int64") * 3
    frame["weekday"] = frame["timestamp"].dt.dayofweek.astype("int64")
    frame = frame.drop(columns="cov0")
    result = _train(tmp_path, frame, tracking_uri, "counts", *tiny_model)
    assert result.exit_code == 0, result.output
    path = tmp_path / "sales.csv"
    assert pd.read_csv(path).dtypes[["value", "promo", "weekday"]].tolist() == ["int64"] * 3

    out = tmp_path / "next.csv"
    result = CliRunner().invoke(main, ["predict", "--model", "models:/counts/1", "--data", str(path),
                                       "--output", str(out), "--tracking-uri", tracking_uri])
    assert result.exit_code == 0, result.output
    cli = pd.read_csv(out)
    assert len(cli) == 2 * 6 and cli["prediction"].notna().all()
    # the signature lists the request's columns (the registry shows them as the version's inputs), typed Any so
    # that MLflow's enforcement does not refuse these int64 columns
    inputs = mlflow.models.get_model_info("models:/counts/1").signature.inputs
    assert inputs.input_names() == ["series_id", "timestamp", "value", "promo", "weekday"]
    assert {str(c.type) for c in inputs.inputs} == {"Any"} and all(c.required for c in inputs.inputs)

    script = textwrap.dedent(f"""
        import mlflow, pandas as pd
        out = mlflow.pyfunc.load_model("models:/counts/1").predict(pd.read_csv({str(path)!r}))
        out.to_csv({str(tmp_path / 'pyfunc.csv')!r}, index=False)
    """)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"MLFLOW_TRACKING_URI": tracking_uri}
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "pyfunc.csv"), cli)


def test_a_series_keyed_by_two_columns_trains_and_predicts_with_both_columns_kept(tmp_path, tracking_uri, tiny_model):
    """fpp3's aus_livestock as exported: `Month` periods like 1976 Jul, a series per (Animal, State)."""
    months = pd.period_range("1976-07", periods=60, freq="M").strftime("%Y %b")
    frame = pd.concat([pd.DataFrame({"Month": months, "Animal": animal, "State": state,
                                     "Count": 1000 * (k + 1) + 100 * np.sin(np.arange(60) * np.pi / 6)})
                       for k, (animal, state) in enumerate([("Bulls", "007"), ("Bulls", "7"), ("Cows", "007")])])
    path = tmp_path / "livestock.csv"
    frame.to_csv(path, index=False)
    result = CliRunner().invoke(main, ["train", "--data", str(path), "--id-col", "Animal,State", "--tracking-uri",
                                       tracking_uri, "--model-name", "keys", "--experiment", "keys", "--max-epochs",
                                       "1", "--seq-len", "12", "--horizon", "6", *tiny_model])
    assert result.exit_code == 0, result.output
    out = tmp_path / "fc.csv"
    result = CliRunner().invoke(main, ["predict", "--model", "models:/keys/latest", "--data", str(path), "--output",
                                       str(out), "--tracking-uri", tracking_uri])
    assert result.exit_code == 0, result.output
    forecasts = pd.read_csv(out, dtype=str)
    assert list(forecasts.columns[:4]) == ["series_id", "Animal", "State", "timestamp"]
    keys = forecasts[["series_id", "Animal", "State"]].drop_duplicates().values.tolist()
    assert keys == [["Bulls|007", "Bulls", "007"], ["Bulls|7", "Bulls", "7"], ["Cows|007", "Cows", "007"]]
    assert (forecasts.groupby("series_id").size() == 6).all()


@pytest.mark.parametrize("args", [["benchmark", "--data", "x.csv", "--seeds", "0"],
                                  ["compare", "--data", "x.csv", "--seeds", "-1"],
                                  ["backtest", "--model", "m", "--data", "x.csv", "--windows", "0"],
                                  ["serve", "--model", "m", "--workers", "0"],
                                  ["serve", "--model", "m", "--max-request-mb", "0"]])
def test_option_ranges_are_refused_at_the_door(args):
    """click's ranges refuse a bad count before any file is read or run exists (exit 2, the option named)."""
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and args[-2] in result.output, result.output


def test_every_command_reads_the_tracking_uri_from_the_environment(tmp_path):
    """--tracking-uri defaults to $MLFLOW_TRACKING_URI for every command (one shared option)."""
    uri = f"sqlite:///{tmp_path / 'env.db'}"
    result = CliRunner().invoke(main, ["health", "no-such-run"], env={"MLFLOW_TRACKING_URI": uri})
    assert result.exit_code == 1 and f"no tracking store at {uri}" in result.output, result.output


def test_read_commands_do_not_create_a_store_they_say_where_they_looked(tmp_path, monkeypatch, make_frame):
    monkeypatch.chdir(tmp_path)
    make_frame(n_series=1, length=40).to_csv(tmp_path / "h.csv", index=False)
    for args in (["predict", "--model", "models:/forecaster/latest", "--data", "h.csv", "--output", "f.csv"],
                 ["backtest", "--model", "models:/forecaster/1", "--data", "h.csv"], ["health", "0123abcd"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1 and f"no tracking store at sqlite:///{tmp_path}/mlflow.db" in result.output, \
            result.output
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "f.csv").exists()


def test_versions_are_challengers_the_first_is_champion_and_runs_read_at_a_glance(tmp_path, make_frame, tracking_uri,
                                                                                   tiny_model):
    frame = make_frame(n_series=2, length=150)
    for extra in ((), (), ("--no-register",)):
        result = _train(tmp_path, frame, tracking_uri, "glance", "--max-steps", "4", *tiny_model, *extra)
        assert result.exit_code == 0, result.output
    assert "model at runs:/" in result.output                       # --no-register: logged, not registered
    client = MlflowClient(tracking_uri)
    model = client.get_registered_model("glance")
    assert model.aliases == {"champion": 1, "challenger": 2} and len(client.search_model_versions("name='glance'")) == 2
    assert model.tags == {"frequency": "h", "horizon": "6", "season": "24", "target": "value", "series": "2"}
    version = client.get_model_version("glance", "2")
    assert version.description.startswith("test MASE ") and "gradient health" in version.description
    experiment = client.get_experiment_by_name("glance")
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"   # MLflow's UI opens on runs
    run = client.get_run(version.run_id)
    assert run.info.run_name == "sales-mean-h6" and run.data.tags["mlflow.note.content"] == version.description
    (dataset,) = run.inputs.dataset_inputs
    assert dataset.dataset.name == "sales.csv" and dataset.tags[0].value == "training"


class _Plain(mlflow.pyfunc.PythonModel):
    """A pyfunc model that is not a forecaster."""

    def predict(self, context, model_input, params=None):
        return model_input


def test_a_warm_start_begins_from_the_champions_weights_and_refuses_conflicting_settings(tmp_path, make_frame,
                                                                                        tracking_uri, tiny_model):
    """With a learning rate of 1e-9 and one step, a warm start is the source model: the same test score to the
    digit, where a cold start at that rate is the untrained network."""
    frame = make_frame(n_series=2, length=150)
    assert _train(tmp_path, frame, tracking_uri, "warm", *tiny_model).exit_code == 0
    client = MlflowClient(tracking_uri)
    source = client.get_run(client.get_model_version_by_alias("warm", "champion").run_id)
    still = ["--max-steps", "1", "--lr", "1e-9", "--no-register"]
    path, uri = str(tmp_path / "sales.csv"), "models:/warm@champion"
    common = ["train", "--data", path, "--tracking-uri", tracking_uri, "--experiment", "warm", "--no-progress"]
    warm = CliRunner().invoke(main, [*common, "--init-from", uri, *still])
    assert warm.exit_code == 0, warm.output
    cold = _train(tmp_path, frame, tracking_uri, "warm", *tiny_model, *still)
    runs = {r.data.tags.get("forecast.init_from", "cold"): r for r in client.search_runs(
        [source.info.experiment_id]) if r.info.run_id != source.info.run_id}
    assert cold.exit_code == 0 and set(runs) == {"cold", f"{uri} (version 1 of warm, run {source.info.run_id})"}
    warm_run = runs[f"{uri} (version 1 of warm, run {source.info.run_id})"]
    key = "accuracy/test_mase"
    assert warm_run.data.metrics[key] == pytest.approx(source.data.metrics[key], rel=1e-6)
    assert runs["cold"].data.metrics[key] != pytest.approx(source.data.metrics[key], rel=1e-3)
    assert warm_run.data.params["model.d_model"] == "16" and warm_run.data.params["data.seq_len"] == "12"
    refused = CliRunner().invoke(main, [*common, "--init-from", uri, "--d-model", "32", "--seq-len", "12"])
    assert refused.exit_code == 1, refused.output
    assert refused.output.startswith(f"Error: --init-from {uri}: --d-model 32 (the source has 16): a warm start "
                                     "takes the architecture"), refused.output
    both = CliRunner().invoke(main, [*common, "--init-from", uri, "--resume", source.info.run_id])
    assert both.exit_code == 1 and "--init-from and --resume exclude each other" in both.output
    # half-hourly data from an hourly model: its season of 24 steps would be 12 hours (accepted without a word)
    half = make_frame(n_series=2, length=300, freq="30min")
    half.to_csv(tmp_path / "half.csv", index=False)
    refused = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "half.csv"), *common[3:], "--init-from", uri])
    assert refused.exit_code == 1 and "the new data steps every '30min', the source model's every 'h'" in \
        refused.output, refused.output
    # sources that are not forecasters: tracebacks before (FileNotFoundError, NotADirectoryError, 'botocore')
    (tmp_path / "folder").mkdir()
    plain = str(tmp_path / "plain")
    mlflow.pyfunc.save_model(plain, python_model=_Plain())
    for source_uri, message in ((str(tmp_path / "folder"), "is not a forecaster logged by this tool"),
                                (path, "is not a forecaster logged by this tool"),
                                ("s3://bucket/model", "cannot load model 's3://bucket/model'"),
                                (plain, "is not a forecaster logged by this tool")):
        refused = CliRunner().invoke(main, [*common, "--init-from", source_uri])
        assert refused.exit_code == 1 and message in refused.output, (source_uri, refused.output)
        assert len(refused.output.strip().splitlines()) == 1 and "Traceback" not in refused.output, source_uri
    assert len(client.search_runs([source.info.experiment_id])) == 3   # the refusals left no run


def test_the_production_loop_train_on_80_retrain_on_all_then_promote_on_the_same_file(tmp_path, make_frame,
                                                                                      tracking_uri, tiny_model):
    """README's loop: a champion on the first 80 %, a warm-started challenger on the whole file, promote on that
    same file: the comparison rests on the challenger's held-out test windows (it was refused: 'no backtest window
    lies after both models' training data'), with a t statistic; the refusals say why; predict from the champion."""
    frame = make_frame(n_series=2, length=200)
    rank = frame.groupby("series_id").cumcount()
    frame[rank < 160].to_csv(tmp_path / "first80.csv", index=False)
    frame.to_csv(tmp_path / "all.csv", index=False)
    common = ["--tracking-uri", tracking_uri, "--model-name", "loop", "--experiment", "loop", "--max-epochs", "1"]
    first = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "first80.csv"), *common, "--seq-len", "12",
                                      "--horizon", "6", *tiny_model])
    assert first.exit_code == 0, first.output
    second = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "all.csv"), *common, "--test-windows", "2",
                                       "--init-from", "models:/loop@champion", "--no-progress"])
    assert second.exit_code == 0, second.output
    client = MlflowClient(tracking_uri)
    assert client.get_registered_model("loop").aliases == {"champion": 1, "challenger": 2}
    args = ["promote", "--model-name", "loop", "--tracking-uri", tracking_uri, "--experiment", "loop"]
    refused = CliRunner().invoke(main, [*args, "--data", str(tmp_path / "first80.csv")])
    assert refused.exit_code == 1 and "no backtest window lies after the data both models saw" in refused.output
    assert "train the challenger on this file: its held-out test part (--test-windows)" in refused.output

    compared = CliRunner().invoke(main, [*args, "--data", str(tmp_path / "all.csv"), "--min-gain", "0.99"])
    assert compared.exit_code == 0, compared.output
    assert ("Backtest on 2 window(s) per series after the data both models saw: MASE champion (version 1) "
            in compared.output and "the challenger's gain over 4 window(s): t = " in compared.output)
    assert "Kept the champion: challenger MASE" in compared.output and "--min-gain 0.99 needs 99.0%" in compared.output
    assert client.get_registered_model("loop").aliases == {"champion": 1, "challenger": 2}

    forced = CliRunner().invoke(main, [*args, "--data", str(tmp_path / "all.csv"), "--force"])
    assert forced.exit_code == 0 and "models:/loop@champion is version 2" in forced.output, forced.output
    model = client.get_registered_model("loop")
    assert model.aliases == {"champion": 2, "challenger": 2}
    assert model.description == client.get_model_version("loop", "2").description   # describes the champion
    decisions = [r for r in client.search_runs([client.get_experiment_by_name("loop").experiment_id])
                 if r.data.tags.get("forecast.kind") == "promote"]
    assert [r.data.params["promoted"] for r in decisions] == ["True", "False"]      # newest first
    for decision in decisions:
        assert {"accuracy/champion_mase", "accuracy/challenger_mase", "gain_t", "cases"} <= set(decision.data.metrics)
        children = client.search_runs([decision.info.experiment_id],
                                      f"tags.mlflow.parentRunId = '{decision.info.run_id}'")
        assert sorted(c.info.run_name for c in children) == ["backtest-challenger-v2", "backtest-champion-v1"]
        assert {c.data.tags["forecast.model"].split(" (")[0] for c in children} == {"models:/loop/1", "models:/loop/2"}
    again = CliRunner().invoke(main, [*args, "--data", str(tmp_path / "all.csv")])
    assert again.exit_code == 1 and "already the champion" in again.output
    out = tmp_path / "f.csv"
    predicted = CliRunner().invoke(main, ["predict", "--model", "models:/loop@champion", "--data",
                                          str(tmp_path / "all.csv"), "--output", str(out), "--tracking-uri",
                                          tracking_uri, "--horizon", "3", "--quantiles", "0.2,0.8"])
    assert predicted.exit_code == 0, predicted.output
    assert len(pd.read_csv(out)) == 6 and list(pd.read_csv(out).columns)[4:6] == ["q0.2", "q0.8"]


def test_promote_and_backtest_refuse_what_they_cannot_score_in_one_line(tmp_path, make_frame, tracking_uri,
                                                                        tiny_model):
    """Probed as a new user would: a challenger trained on another target column (a KeyError), a daily file for
    hourly models (interpolated to hours and scored), constant series (MASE nan, "kept the champion", exit 0),
    empty trailing targets (scored against the last value carried on: naive MAE 0)."""
    frame = make_frame(n_series=2, length=150, covariates=0)
    frame.to_csv(tmp_path / "value.csv", index=False)
    frame.rename(columns={"value": "y"}).to_csv(tmp_path / "y.csv", index=False)
    common = ["--tracking-uri", tracking_uri, "--model-name", "dual", "--experiment", "dual", "--max-epochs", "1",
              "--seq-len", "12", "--horizon", "6", *tiny_model]
    for name, extra in (("value.csv", []), ("y.csv", ["--target", "y"])):
        trained = CliRunner().invoke(main, ["train", "--data", str(tmp_path / name), *common, *extra])
        assert trained.exit_code == 0, trained.output
    after = make_frame(n_series=2, length=220, covariates=0)         # goes on 70 hours after both trainings
    both = after.assign(y=after["value"])
    daily = both.assign(timestamp=np.tile(pd.date_range("2024-01-01", periods=220, freq="D"), 2))
    cases = {"value_only.csv": (after, f"version 2: {tmp_path / 'value_only.csv'}: input is missing column(s) 'y'"),
             "daily.csv": (daily, "but the model forecasts at 'h': send history rows at the model's frequency"),
             "constant.csv": (both.assign(value=5.0, y=5.0), "the backtest MASE is undefined (nan and nan)")}
    args = ["promote", "--model-name", "dual", "--tracking-uri", tracking_uri, "--experiment", "dual"]
    for name, (data, message) in cases.items():
        data.to_csv(tmp_path / name, index=False)
        refused = CliRunner().invoke(main, [*args, "--data", str(tmp_path / name)])
        assert refused.exit_code == 1 and message in refused.output, (name, refused.output)
        assert len(refused.output.strip().splitlines()) == 1 and "Traceback" not in refused.output, name
    assert MlflowClient(tracking_uri).get_registered_model("dual").aliases == {"champion": 1, "challenger": 2}

    gap = both.copy()
    gap.loc[gap.groupby("series_id").cumcount() >= 196, ["value", "y"]] = np.nan   # the last 24 hours unknown
    gap.to_csv(tmp_path / "gap.csv", index=False)
    result = CliRunner().invoke(main, ["backtest", "--model", "models:/dual/1", "--data", str(tmp_path / "gap.csv"),
                                       "--windows", "2", "--tracking-uri", tracking_uri, "--experiment", "dual"])
    assert result.exit_code == 0, result.output
    assert "48 row(s) after their series' last observed target are left out" in result.output
    client = MlflowClient(tracking_uri)
    run = client.search_runs([client.get_experiment_by_name("dual").experiment_id], order_by=["start_time DESC"],
                             filter_string="tags.`forecast.kind` = 'backtest'")[0]     # promote's backtests before it
    scored = pd.read_csv(client.download_artifacts(run.info.run_id, "backtest/forecasts.csv", str(tmp_path)))
    assert pd.to_datetime(scored["timestamp"]).max() == pd.Timestamp("2024-01-01") + pd.Timedelta(hours=195)
    assert scored["actual"].notna().all() and (scored["naive"] != scored["actual"]).any()


def test_a_tracking_server_that_is_not_there_is_said_in_one_line(tmp_path, make_frame):
    """MLflow retried for about 250 s in silence, then printed its own error."""
    with socket.socket() as s:   # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        uri = f"http://127.0.0.1:{s.getsockname()[1]}"
    make_frame(n_series=1, length=150).to_csv(tmp_path / "d.csv", index=False)
    for args in (["train", "--data", str(tmp_path / "d.csv"), "--max-epochs", "1"],
                 ["predict", "--model", "models:/x/1", "--data", str(tmp_path / "d.csv"), "--output",
                  str(tmp_path / "f.csv")]):
        result = CliRunner().invoke(main, [*args, "--tracking-uri", uri])
        assert result.exit_code == 1, result.output
        assert result.output == f"Error: tracking server {uri} cannot be reached (Connection refused); start it " \
                                "(mlflow server --port ...), or pass another --tracking-uri\n"
