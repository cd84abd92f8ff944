"""`forecast benchmark`: our model against pytorch-forecasting's reference models and the statistical ones
(ETS, Theta) on the user's data.

Every model forecasts the same test windows; the trained ones from the same inputs under the same budget
(pipelines/experiments/peers.py states the contract), the statistical ones refitted on each window's history
(pipelines/experiments/statistical.py). All are scored by the same code as training's evaluation
(`pipelines.evaluation.evaluate.score`).
One parent MLflow run; one nested run per (model, seed): ours is a full training run (gradient health
included, logged but not registered), each peer a run with its parameters, timings and accuracy artifacts, and
for a trained peer its gradient health (models/health.py, the generic monitor): the table shows every trained
model's health status, and its diagnoses, beside its accuracy.
"""
import logging
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import mlflow
import pandas as pd

from forecast.data.io import read_validated
from forecast.data.prepare import Prepared, prepare_training
from forecast.data.windows import validation_sized_test_windows
from forecast.models.config import ConfigError
from forecast.models.diagnoses import SEVERITY
from forecast.pipelines.config import Budget, TrainConfig
from forecast.pipelines.errors import ForecastError
from forecast.pipelines.evaluation.accuracy import logged
from forecast.pipelines.evaluation.evaluate import log_accuracy, score
from forecast.pipelines.experiments.peers import LABELS as LEARNED_LABELS
from forecast.pipelines.experiments.peers import run_peer
from forecast.pipelines.experiments.statistical import LABELS as STATISTICAL_LABELS
from forecast.pipelines.experiments.statistical import STATISTICAL, run_statistical
from forecast.pipelines.tracking import use_store
from forecast.pipelines.training.health_log import health_tags
from forecast.pipelines.training.pretrained import start_for, with_steps
from forecast.pipelines.training.train import train

log = logging.getLogger("forecast")
OURS = "forecast"
PEER_LABELS = {**LEARNED_LABELS, **STATISTICAL_LABELS}
LABELS = {OURS: "forecast (ours)", **PEER_LABELS}
DETERMINISTIC = ("baseline", *STATISTICAL)  # no weights, no seed: one run each


@dataclass
class BenchmarkResult:
    run_id: str
    runs: pd.DataFrame     # one row per (model, seed)
    table: pd.DataFrame    # one row per model: accuracy (mean and spread over seeds), times, parameters
    budget: Budget
    test_windows: int


def _train_ours(config: TrainConfig, seed: int) -> dict:
    log.info(f"benchmark: training {LABELS[OURS]}, seed {seed}")
    result = train(replace(config, seed=seed), nested=True, register=False,
                   tags={"forecast.kind": "benchmark", "forecast.benchmark_model": OURS,
                         "mlflow.runName": LABELS[OURS]})
    return _row(OURS, seed, result.run_id, result.metrics, result.fit_seconds, result.predict_seconds,
                result.n_parameters, result.epochs, result.health)


def _row(model: str, seed: int, run_id: str, metrics: dict, train_seconds: float, predict_seconds: float,
         n_parameters: int, epochs: int, health: dict | None) -> dict:
    """One (model, seed) line of `benchmark/runs.csv`; `health` and `diagnoses` are empty for untrained models."""
    found = [f"{d['code']}: {d['subject']}" for d in (health or {}).get("diagnoses", []) if d["severity"] != "info"]
    return {"model": model, "seed": seed, "run_id": run_id, "mase": metrics["test_mase"], "mae": metrics["test_mae"],
            "rmse": metrics["test_rmse"], "smape": metrics["test_smape"], "pinball": metrics["test_pinball"],
            "snaive_mase": metrics["snaive_mase"], "naive_mase": metrics["naive_mase"], "train_seconds": train_seconds,
            "predict_seconds": predict_seconds, "n_parameters": n_parameters, "epochs": epochs,
            "health": health["status"] if health else "", "diagnoses": "; ".join(found)}


def _peer(name: str, prepared, budget: Budget, config: TrainConfig) -> dict:
    log.info(f"benchmark: scoring {PEER_LABELS[name]}" if name in DETERMINISTIC
             else f"benchmark: training {PEER_LABELS[name]}, seed {budget.seed}")
    with mlflow.start_run(nested=True, run_name=PEER_LABELS[name],
                          tags={"forecast.kind": "benchmark", "forecast.benchmark_model": name}) as run:
        quantiles = config.model.quantiles
        result = (run_statistical(name, prepared, quantiles) if name in STATISTICAL
                  else run_peer(name, prepared, budget, quantiles, config.health))
        health = getattr(result, "health", None)
        if health:
            mlflow.log_dict(health, "gradient_health.json")
            mlflow.set_tags(health_tags(health))
        evaluation = score(prepared, result.quantiles, quantiles)
        mlflow.log_params({"model": PEER_LABELS[name], **{f"budget.{k}": v for k, v in vars(budget).items()},
                           **{f"hparams.{k}": v for k, v in list(result.hyperparameters.items())[:80]},
                           "n_parameters": result.n_parameters})
        mlflow.log_metrics({**logged(evaluation.metrics),
                            "train_seconds": result.train_seconds, "predict_seconds": result.predict_seconds,
                            "epochs": result.epochs})
        log_accuracy(evaluation.table, evaluation.accuracy, prepared.panel, quantiles, "evaluation", "test")
    return _row(name, budget.seed, run.info.run_id, evaluation.metrics, result.train_seconds, result.predict_seconds,
                result.n_parameters, result.epochs, health)


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    grouped = runs.groupby("model", sort=False)
    table = grouped.agg(mase=("mase", "mean"), mase_std=("mase", "std"), mae=("mae", "mean"), rmse=("rmse", "mean"),
                        smape=("smape", "mean"), pinball=("pinball", "mean"), train_seconds=("train_seconds", "mean"),
                        predict_seconds=("predict_seconds", "mean"), n_parameters=("n_parameters", "first"),
                        epochs=("epochs", "mean"), seeds=("seed", "count"), health=("health", _worst),
                        diagnoses=("diagnoses", _union)).reset_index()
    first = runs.iloc[0]  # the naive baselines do not depend on the seed
    naive = pd.DataFrame({"model": ["seasonal naive", "naive"], "mase": [first.snaive_mase, first.naive_mase],
                          "seeds": [1, 1]})
    return pd.concat([table, naive], ignore_index=True)


def _worst(statuses: pd.Series) -> str:
    """The worst gradient-health status over a model's seeds ("" for a model without training)."""
    known = [s for s in statuses if s]
    return max(known, key=lambda s: SEVERITY.get(s, 0)) if known else ""   # healthy ranks as info, 0


def _union(diagnoses: pd.Series) -> str:
    """Every diagnosis any seed of a model had, once each."""
    return "; ".join(dict.fromkeys(d for text in diagnoses if text for d in text.split("; ")))


def _with_test_windows(config: TrainConfig, prepared: Prepared) -> tuple[TrainConfig, Prepared]:
    """The benchmark's default test part: as long as the validation part of the shortest series."""
    spec = prepared.spec
    windows = validation_sized_test_windows(int(prepared.panel.lengths.min()), spec.seq_len, spec.horizon,
                                            config.data.val_fraction, spec.lag)
    if windows == config.data.test_windows:
        return config, prepared
    config = replace(config, data=replace(config.data, test_windows=windows))
    return config, read_validated(config.data_path, lambda frame: prepare_training(frame, config.data),
                                  config.data.text_columns)


def benchmark(config: TrainConfig, peers: tuple[str, ...], seeds: int,
              auto_test_windows: bool = False) -> BenchmarkResult:
    """`auto_test_windows` replaces `config.data.test_windows` by a validation-sized test part (the CLI's default)."""
    unknown = [p for p in peers if p not in PEER_LABELS]
    if unknown:
        raise ConfigError(f"--peers must name some of {', '.join(PEER_LABELS)} (got {','.join(peers) or 'none'})")
    prepared = read_validated(config.data_path, lambda frame: prepare_training(frame, config.data),
                              config.data.text_columns)
    if auto_test_windows:
        config, prepared = _with_test_windows(config, prepared)
    config = with_steps(config, start_for(config, prepared.spec))   # the same step budget for ours and the peers
    if not len(prepared.starts["test"]):
        raise ForecastError(f"{config.data_path}: no series is long enough for a test part, so there is nothing to "
                            "compare the models on; lower --seq-len or --horizon")
    use_store(config.tracking_uri, config.experiment)
    with mlflow.start_run(tags={"forecast.kind": "benchmark"}) as parent:
        budget = config.budget(config.resolved_batch_size(len(prepared.starts["train"])))
        mlflow.log_params({"peers": ",".join(peers), "seeds": seeds, "data_path": str(config.data_path),
                           "seq_len": prepared.spec.seq_len, "horizon": prepared.spec.horizon,
                           "test_windows": config.data.test_windows,
                           "test_windows_source": "validation-sized" if auto_test_windows else "given",
                           **{f"budget.{k}": v for k, v in vars(budget).items()}})
        rows = []
        for k in range(seeds):
            seed = config.seed + k
            rows.append(_train_ours(config, seed))
            for name in peers:
                if name not in DETERMINISTIC or k == 0:
                    rows.append(_peer(name, prepared, replace(budget, seed=seed), config))
        runs = pd.DataFrame(rows)
        table = summarise(runs)
        mlflow.log_metrics({f"{r.model.replace(' ', '_')}/{key}": float(getattr(r, key))
                            for r in table.itertuples() for key in ("mase", "mae", "smape", "pinball",
                                                                    "train_seconds", "predict_seconds")
                            if pd.notna(getattr(r, key))})
        with tempfile.TemporaryDirectory() as tmp:
            runs.to_csv(Path(tmp) / "runs.csv", index=False)
            table.to_csv(Path(tmp) / "table.csv", index=False)
            mlflow.log_artifacts(tmp, "benchmark")
    return BenchmarkResult(parent.info.run_id, runs, table, budget, config.data.test_windows)
