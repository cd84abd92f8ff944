"""The time budget: parsed at the door, enforced by Lightning's timer with the best checkpoint kept, and
announced once the first steps are timed."""
import logging

import pytest
from click.testing import CliRunner
from mlflow.tracking import MlflowClient

from forecast.app.cli import main
from forecast.models.config import ConfigError
from forecast.pipelines.config import TrainConfig, parse_duration


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("15m", 900), ("1.5h", 5400), ("0", 0), (" 2M ", 120)])
def test_durations_read_with_their_unit(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["15", "-5m", "ten minutes", "5d", "", "1e9h"])
def test_a_duration_without_a_unit_or_out_of_range_is_refused(text):
    with pytest.raises(ConfigError, match="--time-budget must be"):
        TrainConfig(data_path="unused.csv", time_budget=text)


def test_a_binding_budget_stops_training_validated_and_registered_and_says_so(tmp_path, make_frame, tracking_uri,
                                                                            tiny_model, caplog):
    """1,000 epochs with patience 1,000 cannot finish in 10 seconds on any machine: the budget ends training,
    the stop still validates, the best checkpoint is evaluated and the model registered. (10, not 3: on a loaded
    machine the 25 steps the estimate is timed over took more than 3 seconds, and nothing was announced.)"""
    make_frame(n_series=3, length=200).to_csv(tmp_path / "d.csv", index=False)
    with caplog.at_level(logging.INFO, logger="forecast"):
        result = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "d.csv"), "--tracking-uri", tracking_uri,
                                           "--model-name", "budget", "--experiment", "budget", "--seq-len", "12",
                                           "--horizon", "6", "--max-epochs", "1000", "--patience", "1000",
                                           "--batch-size", "8", "--time-budget", "10s", *tiny_model])
    assert result.exit_code == 0, result.output
    client = MlflowClient(tracking_uri)
    run = client.get_run(client.search_model_versions("name='budget'")[0].run_id)
    assert run.data.metrics["epochs"] < 1000 and "best_val_loss" in run.data.metrics
    assert run.data.params["time_budget"] == "10s"
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("training will")]
    assert len(said) == 1 and "time budget, 10 s from the start" in said[0]
    assert run.data.metrics["announced_fit_seconds"] == 10.0
    assert run.data.tags["forecast.stopped"] == "the time budget (--time-budget)"
    assert "Stopped by the time budget (--time-budget)" in result.output


def test_without_a_binding_budget_the_estimate_is_the_planned_steps(tmp_path, make_frame, tracking_uri, tiny_model,
                                                                   caplog):
    make_frame(n_series=3, length=200).to_csv(tmp_path / "d.csv", index=False)
    with caplog.at_level(logging.INFO, logger="forecast"):
        result = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "d.csv"), "--tracking-uri", tracking_uri,
                                           "--model-name", "estimate", "--experiment", "estimate", "--seq-len", "12",
                                           "--horizon", "6", "--max-steps", "40", "--batch-size", "8", *tiny_model])
    assert result.exit_code == 0, result.output
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("training will")]
    assert len(said) == 1 and "40 steps at" in said[0], said
    client = MlflowClient(tracking_uri)
    run = client.get_run(client.search_model_versions("name='estimate'")[0].run_id)
    batch, metrics = int(run.data.params["batch_size_resolved"]), run.data.metrics
    assert metrics["train_windows_per_second"] == pytest.approx(40 * batch / metrics["fit_seconds"], rel=1e-6)
    assert "training windows/s" in result.output


@pytest.mark.parametrize("max_epochs, max_steps, planned", [(30, -1, 300), (1, 5000, 10), (30, 50, 50), (-1, 70, 70)])
def test_the_announced_steps_are_the_cap_that_binds_first(max_epochs, max_steps, planned):
    """`--max-epochs 1 --max-steps 5000` stops after one epoch: the announcement read only the step cap."""
    from forecast.pipelines.training.train import planned_steps

    config = TrainConfig(data_path="unused.csv", max_epochs=max_epochs, max_steps=max_steps)
    assert planned_steps(config, steps_per_epoch=10) == planned
