"""train(config) -> TrainResult: data -> Lightning training -> test evaluation -> MLflow run + registered model.

Bad data fails before any run exists. Once the run exists, a failure marks it FAILED (MLflow's run context), an
interrupt KILLED, and nothing is registered: the model is registered last, after every metric and artifact.
"""
import contextlib
import hashlib
import logging
import math
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import lightning as L
import mlflow
import pandas as pd
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch.utils.data import DataLoader

from forecast.data.io import read_validated
from forecast.data.prepare import DataReport, Prepared, prepare_training
from forecast.data.windows import evenly_spaced
from forecast.models.forecaster_health import ForecasterHealthMonitor
from forecast.models.health import NonFiniteError
from forecast.models.lightning import ForecastModule
from forecast.pipelines.config import TrainConfig
from forecast.pipelines.errors import ForecastError
from forecast.pipelines.evaluation.accuracy import logged
from forecast.pipelines.evaluation.caution import caution
from forecast.pipelines.evaluation.evaluate import Evaluation, evaluate, log_accuracy
from forecast.pipelines.evaluation.plots import log_figure, loss_figure
from forecast.pipelines.serving.logged_model import log_forecaster
from forecast.pipelines.tracking import label_version, log_dataset, resolved, use_store
from forecast.pipelines.training.budget import TrainingTime
from forecast.pipelines.training.callbacks import EpochHistory, EpochLine, StopOnCtrlC, stop_reason
from forecast.pipelines.training.health_log import log_health
from forecast.pipelines.training.logger import RunLogger
from forecast.pipelines.training.members import choose_members
from forecast.pipelines.training.pretrained import start_for, with_steps
from forecast.pipelines.training.resume import (
    DATA_TAG,
    INFERRED_TAG,
    RunCheckpoint,
    checkpoint_dir,
    resume_checkpoint,
    run_lock,
)
from forecast.pipelines.training.trainer import build_trainer
from forecast.pipelines.training.warm_start import LINEAGE_TAG, load_weights

log = logging.getLogger("forecast")
ANCHOR_WINDOWS = 8192  # the seasonal blend has two numbers per horizon step: a few thousand windows fix them


@dataclass
class TrainResult:
    run_id: str
    model_uri: str            # models:/<name>/<version>, or runs:/<id>/model when not registered
    version: str | None
    metrics: dict[str, float]
    report: DataReport
    epochs: int
    seconds: float            # the whole command: data, training, evaluation, logging
    history: list[dict]       # per epoch: epoch, step, train_loss, val_loss
    health: dict | None       # the gradient-health report (gradient_health.json), when checks ran
    n_parameters: int = 0
    fit_seconds: float = 0.0      # Lightning's fit alone
    predict_seconds: float = 0.0  # forecasting the test windows
    windows_per_second: float = 0.0  # training windows through the optimiser per second of fit (all processes)
    stopped: str = ""                # why training stopped, in words


@dataclass
class Setup:
    """Everything training needs, built before any run exists (so bad data leaves no run behind)."""
    prepared: Prepared
    module: ForecastModule
    train_loader: DataLoader
    val_loader: DataLoader | None   # None: no validation windows (a single short series), no early stopping
    batch_size: int
    steps_per_epoch: int
    total_steps: int
    monitor: ForecasterHealthMonitor
    config: TrainConfig             # as given, with --max-steps auto resolved
    start: str = "random weights"   # where the weights started: random, a pretrained checkpoint, a warm start
    start_warning: bool = False     # the pretrained checkpoint was asked for and not used
    steps_option: str = "--max-steps"   # where the step cap came from: given, or auto (the pretrained start's)

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.module.parameters())


@dataclass
class Fitted:
    """What the fit left: the epoch history, the health report, the epochs run and the throughput."""
    history: EpochHistory
    health: dict | None
    epochs: int
    fit_seconds: float
    windows_per_second: float
    stopped: str = ""         # why training stopped (callbacks.stop_reason)
    steps: int = 0            # optimiser steps run


def train(config: TrainConfig, rank: int = 0, nested: bool = False, register: bool = True,
          tags: dict | None = None) -> TrainResult | None:
    """Train, evaluate, log and register. With several processes (--devices/--num-nodes) every process runs
    this; only global rank 0 (`rank`) touches MLflow and returns a result, the others only train. `nested`
    makes the run a child of the active one (forecast compare, benchmark); `register=False` logs the model
    unregistered; `tags` are set on the run."""
    started = time.perf_counter()
    setup = _setup(config)
    config = setup.config   # its step budget resolved (--max-steps auto)
    if rank != 0:
        return _train_other_rank(config, setup)
    use_store(config.tracking_uri, config.experiment)
    with open(config.data_path, "rb") as handle:
        data_sha = hashlib.file_digest(handle, "sha256").hexdigest()
    _announce(setup)
    with tempfile.TemporaryDirectory(prefix="forecast-") as tmp, contextlib.ExitStack() as held:
        if config.resume:   # before the run is touched: a refusal leaves the other process's run as it is
            held.enter_context(run_lock(config.resume))
        resume_from = resume_checkpoint(config, data_sha, Path(tmp)) if config.resume else None
        with mlflow.start_run(run_id=config.resume, nested=nested, tags=tags,
                              run_name=None if config.resume else _run_name(config, setup)) as run:
            if not config.resume:
                held.enter_context(run_lock(run.info.run_id))
            if not resume_from:
                _log_inputs(config, setup, data_sha)
            fitted = _fit(config, setup, run.info.run_id, tmp, resume_from)
            combination, fallback = choose_members(setup.module.model, setup.prepared, setup.batch_size,
                                                   config.combination)
            evaluation = (evaluate(setup.module.model, setup.prepared, setup.batch_size, combination)
                          if len(setup.prepared.starts["test"]) else None)   # no series holds a test part
            # the test metrics at a step of their own, after the last training step: the logged model links
            # exactly the metrics of the step it is logged at (MLflow), so its list is the test score
            result_step = fitted.steps + 1
            _log_evaluation(evaluation, setup.prepared, pd.DataFrame(fitted.history.rows),
                            setup.module.config.quantiles, result_step)
            version = log_forecaster(setup.module.model, setup.prepared.spec, setup.prepared,
                                     config.model_name if register and config.register else None, Path(tmp),
                                     combination, fallback, result_step)
            _describe(config, setup, evaluation, fitted, version)
    uri = f"models:/{config.model_name}/{version}" if version else f"runs:/{run.info.run_id}/model"
    return TrainResult(run_id=run.info.run_id, model_uri=uri, version=version,
                       metrics=evaluation.metrics if evaluation else {}, report=setup.prepared.report,
                       epochs=fitted.epochs, seconds=time.perf_counter() - started, history=fitted.history.rows,
                       health=fitted.health, n_parameters=setup.n_parameters, fit_seconds=fitted.fit_seconds,
                       predict_seconds=evaluation.predict_seconds if evaluation else 0.0,
                       windows_per_second=fitted.windows_per_second, stopped=fitted.stopped)


def _setup(config: TrainConfig) -> Setup:
    """Data, seeded loaders, the model (with its seasonal anchor fitted) and the health monitor."""
    prepared = read_validated(config.data_path, lambda frame: prepare_training(frame, config.data),
                              config.data.text_columns)
    spec = prepared.spec
    start = start_for(config, spec)   # a warm start, the pretrained checkpoint or random weights
    steps = "--max-steps" if config.max_steps is not None else "--max-steps auto"
    config = with_steps(config, start)
    model_config = replace(config.model, seq_len=spec.seq_len, horizon=spec.horizon,
                           n_features=prepared.panel.values.shape[1], n_known=spec.n_known,
                           lag_feature=spec.lag_feature)
    L.seed_everything(config.seed, workers=True, verbose=False)
    batch_size = config.resolved_batch_size(len(prepared.starts["train"]))
    train_set = spec.dataset(prepared.panel, prepared.starts["train"])
    train_loader = train_set.loader(batch_size, shuffle=True, seed=config.seed)
    val_loader = (spec.dataset(prepared.panel, prepared.starts["val"]).loader(batch_size, shuffle=False)
                  if len(prepared.starts["val"]) else None)
    steps_per_epoch = math.ceil(len(train_loader) / config.world_size)  # each process sees its share
    total = planned_steps(config, steps_per_epoch)   # the learning-rate schedule's length: the cap that binds
    module = ForecastModule(model_config, config.optim, total)
    x, y, future = train_set.__getitems__(evenly_spaced(len(train_set), ANCHOR_WINDOWS))
    module.model.fit_anchor(x, future, y)
    if config.init_from:   # a warm start: the source's weights, its anchor included
        use_store(config.tracking_uri)
        load_weights(module.model, spec, config.init_from)
    said = start.apply(module.model, spec)
    # always on: the per-step non-finite check; --health-every 0 turns off only the periodic checks
    monitor = ForecasterHealthMonitor(spec.feature_names, config.health)
    return Setup(prepared, module, train_loader, val_loader, batch_size, steps_per_epoch, total, monitor, config,
                 said, start.warning, steps)


def planned_steps(config: TrainConfig, steps_per_epoch: int) -> int:
    """The steps training will run unless it stops early: the step cap or the epoch cap, whichever comes first
    (the time announcement once read only the step cap: 23 minutes announced for a 59-second `--max-epochs 1`)."""
    by_epochs = config.max_epochs * steps_per_epoch if config.max_epochs > 0 else None
    if config.max_steps <= 0:
        return by_epochs
    return config.max_steps if by_epochs is None else min(config.max_steps, by_epochs)


def _train_other_rank(config: TrainConfig, setup: Setup) -> None:
    """A data-parallel rank other than 0: the same training, with no MLflow run and nothing kept."""
    with tempfile.TemporaryDirectory(prefix="forecast-") as tmp:
        checkpoint = _checkpoint(Path(tmp), setup)
        callbacks = [checkpoint, setup.monitor, RunCheckpoint(Path(tmp), config.checkpoint_every, log=False)]
        _trainer(config, setup, None, tmp, callbacks).fit(setup.module, setup.train_loader, setup.val_loader)


def _trainer(config: TrainConfig, setup: Setup, run_id: str | None, root: str, callbacks: list) -> L.Trainer:
    return build_trainer(config.budget(setup.batch_size), callbacks, root, setup.steps_per_epoch,
                         RunLogger(run_id) if run_id else False, config.ema_decay, config.placement,
                         validate=setup.val_loader is not None)


def _checkpoint(dirpath: Path, setup: Setup) -> ModelCheckpoint:
    """The best checkpoint by validation loss; without validation windows, the last one."""
    if setup.val_loader is None:
        return ModelCheckpoint(dirpath=dirpath, save_top_k=1)
    return ModelCheckpoint(dirpath=dirpath, monitor="val_loss", mode="min", save_top_k=1)


def _announce(setup: Setup) -> None:
    r, spec = setup.prepared.report, setup.prepared.spec
    (log.warning if setup.start_warning else log.info)(f"weights: {setup.start}")
    log.info(f"{r.series} series, frequency {spec.freq.alias}, seq_len {spec.seq_len}, horizon {spec.horizon} "
             f"({r.horizon_source}); {r.windows['train']} training windows, batch {setup.batch_size}, "
             f"{setup.steps_per_epoch} steps per epoch; inputs: {', '.join(spec.feature_names)}")


def _fit(config: TrainConfig, setup: Setup, run_id: str, tmp: str, resume_from: str | None) -> Fitted:
    """Lightning's fit inside the run, then the best checkpoint's weights loaded into the module. Non-finite
    gradients mark the run FAILED and Ctrl-C KILLED, keeping the best checkpoint so far as an artifact."""
    kept_dir = checkpoint_dir(run_id)
    checkpoint = _checkpoint(kept_dir, setup)
    history, ctrl_c = EpochHistory(), StopOnCtrlC(enabled=config.world_size == 1)
    planned = planned_steps(config, setup.steps_per_epoch)
    timing = TrainingTime(planned, setup.steps_per_epoch, len(setup.val_loader or ()), config.time_budget_seconds)
    callbacks = [checkpoint, history, setup.monitor, RunCheckpoint(kept_dir, config.checkpoint_every, log=True),
                 ctrl_c, timing, *([] if config.progress else
                                   [EpochLine(planned, setup.steps_per_epoch, config.time_budget_seconds)])]
    trainer = _trainer(config, setup, run_id, tmp, callbacks)
    fit_started = time.perf_counter()
    try:
        with ctrl_c:
            trainer.fit(setup.module, setup.train_loader, setup.val_loader, ckpt_path=resume_from)
        if ctrl_c.requested:
            raise KeyboardInterrupt  # stopped cleanly after a batch
        fit_seconds = time.perf_counter() - fit_started
        health = _log_health(config, setup, history, trainer.global_step, run_id)
        if setup.val_loader is not None:   # without validation the final weights (averaged) are the model
            _load_best(setup.module, checkpoint, resume_from)
    except NonFiniteError as err:
        kept = _keep_best(checkpoint)
        _log_health(config, setup, history, trainer.global_step, run_id)
        mlflow.end_run(status="FAILED")
        raise ForecastError(f"training stopped: {err}; run {run_id} is marked FAILED; {kept}") from None
    except (KeyboardInterrupt, SystemExit):  # Ctrl-C; Lightning turns it into SystemExit after its shutdown
        kept = _keep_best(checkpoint)
        mlflow.end_run(status="KILLED")
        raise ForecastError(f"training interrupted; run {run_id} is marked KILLED; {kept}; "
                            f"continue with --resume {run_id}") from None
    finally:
        shutil.rmtree(kept_dir, ignore_errors=True)   # what is worth keeping was logged to the run
    throughput = trainer.global_step * setup.batch_size * config.world_size / max(fit_seconds, 1e-9)
    mlflow.log_metrics({"fit_seconds": fit_seconds, **({"announced_fit_seconds": timing.announced}
                                                       if timing.announced else {}),
                        "best_val_loss": float(checkpoint.best_model_score or float("nan")),
                        "epochs": trainer.current_epoch, "steps": trainer.global_step,
                        "train_windows_per_second": throughput})  # validation time included
    stopped = stop_reason(trainer, history.rows, config.max_epochs, config.max_steps, setup.steps_option)
    mlflow.set_tag("forecast.stopped", stopped)
    return Fitted(history, health, trainer.current_epoch, fit_seconds, throughput, stopped, trainer.global_step)


def _log_health(config: TrainConfig, setup: Setup, history: EpochHistory, step: int,
                run_id: str) -> dict | None:
    if config.health.health_every <= 0:
        return None
    return log_health(setup.monitor, pd.DataFrame(history.rows), step, run_id)


def _load_best(module: ForecastModule, checkpoint: ModelCheckpoint, resume_from: str | None) -> None:
    if checkpoint.best_model_path and Path(checkpoint.best_model_path).exists():
        best = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)
        module.load_state_dict(best["state_dict"])
    elif resume_from:  # resumed elsewhere, with no better epoch since: the final weights
        log.warning("the best checkpoint from before the resume is not on this machine and no later epoch beat "
                    "it: evaluating and logging the final weights")
    else:
        raise ForecastError("training produced no checkpoint (no validation epoch completed)")


def _run_name(config: TrainConfig, setup: Setup) -> str:
    """The run's name from the data and the model: `hourly_load-mean-h24`."""
    return f"{Path(config.data_path).name.split('.')[0]}-{config.model.aggregator}-h{setup.prepared.spec.horizon}"


def _describe(config: TrainConfig, setup: Setup, evaluation: Evaluation | None, fitted: Fitted,
              version: str | None) -> None:
    """The result in one line, as the run's description (what MLflow's UI shows first) and the registered
    version's, with the version's aliases and tags."""
    r = setup.prepared.report
    if evaluation is None:
        result = "no test score (no series long enough for a test part)"
    else:
        m = evaluation.metrics
        result = (f"test MASE {m['test_mase']:.3f} against seasonal naive {m['snaive_mase']:.3f} on "
                  f"{r.windows['test']} window(s) of {r.horizon} steps over {r.series - r.series_without_test} series")
    health = (fitted.health or {}).get("status", "not checked")
    text = f"{result}; gradient health {health}; stopped by {fitted.stopped}"
    doubt = caution(evaluation.metrics if evaluation else None, setup.module.config.quantiles, r.windows["test"])
    if doubt:
        log.warning(f"caution: {doubt}")
        text += f"; caution: {doubt}"
        mlflow.set_tag("forecast.caution", doubt)
    mlflow.set_tag("mlflow.note.content", text)
    if version:
        label_version(config.model_name, version, text, {
            "frequency": setup.prepared.spec.freq.alias, "horizon": str(r.horizon), "season": str(r.season_length),
            "target": r.target, "series": str(r.series)}, {"caution": doubt} if doubt else None)


def _log_inputs(config: TrainConfig, setup: Setup, data_sha: str) -> None:
    spec, m = setup.prepared.spec, setup.module.config
    where = ("experiment", "tracking_uri")  # where the run lives: MLflow records it (and `mlflow run` may differ)
    settings = {k: v for k, v in config.flat().items() if k not in where}
    used = _values_used(setup)
    inferred = sorted(k for k, v in settings.items() if v is None and used.get(k) is not None)
    mlflow.log_params({**settings, **{k: used[k] for k in inferred},
                       "data.horizon_resolved": spec.horizon, "data.frequency": spec.freq.alias,
                       "data.season_length_resolved": spec.freq.season_length, "model.n_features": m.n_features,
                       "model.n_known": m.n_known, "batch_size_resolved": setup.batch_size,
                       "n_parameters": setup.n_parameters})
    mlflow.log_dict(setup.prepared.report.to_dict(), "data_report.json")
    log_dataset(config.data_path, "training", data_sha)
    mlflow.set_tags({"forecast.data_path": str(config.data_path), "forecast.features": ",".join(spec.feature_names),
                     DATA_TAG: data_sha, INFERRED_TAG: ",".join(inferred) or "none", "forecast.start": setup.start,
                     **({LINEAGE_TAG: resolved(config.init_from)} if config.init_from else {})})


def _values_used(setup: Setup) -> dict:
    """The values the run used for the settings that default to None (inferred from the data): the params then
    show 24, not None; the tag `forecast.inferred` names them."""
    spec = setup.prepared.spec
    schema = spec.schema
    return {"data.horizon": spec.horizon, "data.season_length": spec.freq.season_length,
            "batch_size": setup.batch_size, "data.id_col": ",".join(schema.id_columns) or None,
            "data.time_col": schema.time_col, "data.target": schema.target,
            "data.covariates": ",".join(schema.covariates) or "none"}


def _keep_best(checkpoint: ModelCheckpoint | None) -> str:
    """Log the best checkpoint so far as a run artifact; say where it is. An interrupt can land after
    ModelCheckpoint names a new best and before its file is written: then the previous best, still on disk, is
    the one kept."""
    if checkpoint is None or not checkpoint.best_model_path:
        return "no checkpoint had been saved yet (no validation epoch completed)"
    best = Path(checkpoint.best_model_path)
    if best.exists():
        score = f"val_loss {float(checkpoint.best_model_score):.4g}"
    else:
        saved = sorted((p for p in best.parent.glob("*.ckpt") if p.name != "last.ckpt"),
                       key=lambda p: p.stat().st_mtime)
        if not saved:
            return "no checkpoint had been written yet (interrupted while saving the first one)"
        best, score = saved[-1], "the last one completely written"
    mlflow.log_artifact(str(best), "checkpoints")
    return f"the best checkpoint so far ({score}) is kept as the run artifact checkpoints/{best.name}"


def _log_evaluation(evaluation: Evaluation | None, prepared: Prepared, history: pd.DataFrame, quantiles,
                    step: int = 0) -> None:
    """The test score, its tables and plots (a run without test windows says so in a tag), and the loss plot."""
    mlflow.set_tags({"forecast.validation": prepared.report.validation,
                     "forecast.test": f"{prepared.report.windows['test']} window(s)" if evaluation else
                     "none: no series is long enough for a test part"})
    if evaluation is not None:
        mlflow.log_metrics(logged(evaluation.metrics), step=step)
        log_accuracy(evaluation.table, evaluation.accuracy, prepared.panel, quantiles, "evaluation", "test")
    if len(history):
        log_figure(loss_figure(history), "plots/loss.png")
