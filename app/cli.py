"""`forecast`: a thin click shell over the pipelines. Heavy imports happen inside the commands."""
import logging
import os
import sys
import warnings
from dataclasses import replace

import click

from forecast.app.options import option_for, options_from
from forecast.data.config import DataConfig
from forecast.models.config import HealthConfig, ModelConfig, OptimConfig
from forecast.pipelines.config import (
    PRETRAINED,
    BacktestConfig,
    PredictConfig,
    PretrainConfig,
    PromoteConfig,
    ServeConfig,
    TrainConfig,
    given,
)
from forecast.pipelines.errors import USER_ERRORS

tracking_uri_option = option_for(TrainConfig, "tracking_uri")   # the same option on every command


class _Group(click.Group):
    """Turns the errors users can fix into one line and exit status 1; bugs keep their traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except USER_ERRORS as err:
            raise click.ClickException(str(err)) from None


class _EchoHandler(logging.Handler):
    """The pipelines' warnings on stderr, as `warning: ...` (resolved at each message, so tests capture it)."""

    def emit(self, record):
        click.echo(f"{record.levelname.lower()}: {record.getMessage()}", err=True)


@click.group(cls=_Group)
@click.version_option(package_name="forecast")
def main():
    """Train, evaluate, register and run transformer forecasters from CSV files, tracked in MLflow."""
    log = logging.getLogger("forecast")
    if not any(isinstance(h, _EchoHandler) for h in log.handlers):
        log.addHandler(_EchoHandler())
    log.setLevel(logging.INFO)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    warnings.filterwarnings("ignore", message=".*(treespec|LeafSpec).*")  # torch/lightning internals


@main.command()
@click.option("--data", "data_path", required=True, help="CSV (optionally .gz) or Parquet file, long format.")
@options_from(DataConfig, ModelConfig, OptimConfig, HealthConfig, TrainConfig, exclude=("data_path",))
def train(data_path, **options):
    """Train on a CSV, evaluate against naive baselines, log to MLflow and register the model."""
    from forecast.app.summary import print_training
    from forecast.pipelines.training.train import train as run_training

    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # after its import, which sets INFO
    config = _train_config(data_path, options)
    result = run_training(config, rank=_global_rank(config.devices))
    if result is not None:  # the other ranks of a multi-process run print nothing
        print_training(result)


def _train_config(data_path: str, options: dict) -> TrainConfig:
    """The run's config from the options given (train, compare and benchmark), resolved as the Python API's is;
    then the terminal's and `mlflow run`'s adjustments."""
    from forecast.pipelines.training.warm_start import train_config

    config = train_config(data_path, options)
    if config.progress and not sys.stderr.isatty():   # a log file or a scheduler: a line per epoch, no redraws
        config = replace(config, progress=False)
    return _in_mlflow_run(config)


def _global_rank(devices: int) -> int:
    """This process's rank in multi-process training, from the launcher's environment (torchrun, SLURM,
    Lightning's own launcher: NODE_RANK/LOCAL_RANK); 0 for a plain run."""
    env = os.environ
    if "RANK" in env or "SLURM_PROCID" in env:
        return int(env.get("RANK", env.get("SLURM_PROCID")))
    return int(env.get("NODE_RANK", 0)) * devices + int(env.get("LOCAL_RANK", 0))


@main.command()
@options_from(PredictConfig)
def predict(**options):
    """Forecast the next horizon of every series in a file."""
    from forecast.app.summary import print_forecasts, print_spark_forecasts

    # a progress bar on a terminal only: written to a file, its redraws are noise
    config = given(PredictConfig, options, progress=sys.stderr.isatty())
    if config.spark:
        from forecast.pipelines.serving.spark_predict import spark_predict

        print_spark_forecasts(spark_predict(config))
        return
    if config.model_uri == PRETRAINED:   # zero-shot: no store, no training
        from forecast.pipelines.serving.zero_shot import predict_zero_shot

        print_forecasts(predict_zero_shot(config), config.output, "the pretrained network (zero-shot, no training)")
        return
    from forecast.pipelines.serving.predict import predict_file
    from forecast.pipelines.tracking import resolved

    forecasts = predict_file(config)
    print_forecasts(forecasts, config.output, resolved(config.model_uri))   # which version an alias named


@main.command()
@options_from(ServeConfig)
def serve(**options):
    """Serve a model over REST with MLflow's scoring server (/ping, /health, /version, POST /invocations)."""
    from forecast.pipelines.serving.serve import serve as run_server

    run_server(given(ServeConfig, options), announce=lambda line: click.echo(line, err=True))


@main.command()
@options_from(PretrainConfig)
def pretrain(**options):
    """Pretrain the network on synthetic series and write the checkpoints `forecast train` starts from."""
    from forecast.app.summary import print_pretraining
    from forecast.pipelines.training.pretrain import pretrain as run_pretraining

    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*IterableDataset.*__len__.*")   # its batches: one process
    print_pretraining(run_pretraining(given(PretrainConfig, options)))


@main.command()
@click.option("--data", "data_path", required=True, help="CSV (optionally .gz) or Parquet file, long format.")
@click.option("--aggregators", default="mean,learnable,weighted,attention", show_default=True,
              help="Comma-separated aggregators to compare.")
@click.option("--seeds", default=3, show_default=True, type=click.IntRange(min=1),
              help="Training runs per aggregator (seeds seed, seed+1, ...).")
@options_from(DataConfig, ModelConfig, OptimConfig, HealthConfig, TrainConfig,
              exclude=("data_path", "aggregator", "resume", "init_from", "model_name"))
def compare(data_path, aggregators, seeds, **options):
    """Train every aggregator with several seeds (nested MLflow runs) and compare accuracy and gradient health."""
    from forecast.app.summary import print_compare
    from forecast.pipelines.experiments.compare import compare as run_compare

    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    names = tuple(a.strip() for a in aggregators.split(",") if a.strip())
    print_compare(run_compare(_train_config(data_path, options), names, seeds))


def _test_windows(ctx, param, value: str) -> int | None:
    """`auto` (None: the pipeline decides) or a positive number of test origins."""
    if value == "auto":
        return None
    if not value.isdigit() or int(value) < 1:
        raise click.BadParameter(f"expected auto or a positive integer, got {value!r}")
    return int(value)


@main.command()
@click.option("--data", "data_path", required=True, help="CSV (optionally .gz) or Parquet file, long format.")
@click.option("--peers", default="baseline,nhits,tft,ets,theta,ets_fast,drift", show_default=True,
              help="Comma-separated reference models: pytorch-forecasting's baseline, nhits, tft; statsmodels' ets, "
                   "theta; the combination's members ets_fast, drift.")
@click.option("--seeds", default=3, show_default=True, type=click.IntRange(min=1),
              help="Training runs per model (seeds seed, seed+1, ...).")
@click.option("--test-windows", "test_windows", default="auto", show_default=True, callback=_test_windows,
              help="Test origins per series, one horizon apart at the end (auto: a test part as long as the validation "
                   "part of the shortest series).")
@options_from(DataConfig, ModelConfig, OptimConfig, HealthConfig, TrainConfig,
              exclude=("data_path", "resume", "init_from", "model_name", "devices", "num_nodes", "strategy",
                       "accelerator", "test_windows"))
def benchmark(data_path, peers, seeds, test_windows, **options):
    """Our model against pytorch-forecasting's Baseline, NHiTS and TFT and statsmodels' ETS and Theta: same
    test windows, one table."""
    from forecast.app.summary import print_benchmark
    from forecast.pipelines.experiments.benchmark import benchmark as run_benchmark

    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    config = _train_config(data_path, {**options, "test_windows": test_windows})  # None (auto): the default
    names = tuple(p.strip().lower() for p in peers.split(",") if p.strip())
    print_benchmark(run_benchmark(config, names, seeds, auto_test_windows=test_windows is None))


@main.command()
@options_from(BacktestConfig)
def backtest(**options):
    """Rolling-origin backtest against naive baselines, logged as an MLflow run."""
    from forecast.app.summary import print_backtest
    from forecast.pipelines.evaluation.backtest import backtest as run_backtest

    config = given(BacktestConfig, options)
    print_backtest(run_backtest(_in_mlflow_run(config)))


@main.command()
@options_from(PromoteConfig)
def promote(**options):
    """Backtest champion and challenger on the same origins after both models' training data; move `champion`
    to the challenger if it is better."""
    from forecast.app.summary import print_promotion
    from forecast.pipelines.evaluation.promote import promote as run_promote

    config = given(PromoteConfig, options)
    print_promotion(run_promote(config), config.model_name)


def _in_mlflow_run(config):
    """Under `mlflow run` (MLproject), MLflow has started the run in the experiment it was told: the pipeline logs
    into that run and must not switch experiments."""
    return replace(config, experiment=None) if os.environ.get("MLFLOW_RUN_ID") else config


@main.command()
@click.argument("run_id")
@tracking_uri_option
def health(run_id, tracking_uri):
    """Print a run's gradient-health report: status, diagnoses and the key figures."""
    from forecast.pipelines.tracking import use_store
    from forecast.pipelines.training.health_log import read_health, render

    use_store(tracking_uri, reads=run_id)
    click.echo(render(read_health(run_id)), nl=False)


if __name__ == "__main__":
    main()
