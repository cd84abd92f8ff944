"""train(config) -> TrainResult: data -> Lightning training -> test evaluation -> MLflow run + registered model.

Bad data fails before any run exists. Once the run exists, any failure marks it FAILED and registers
nothing: the model is registered last, after every metric and artifact is logged.
"""
import logging
import math
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import lightning as L
import mlflow
import pandas as pd
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, EMAWeightAveraging, ModelCheckpoint, TQDMProgressBar

from data.io import read_validated
from data.prepare import Prepared, prepare_training
from data.windows import evenly_spaced
from models.health import GradientHealthMonitor, NonFiniteError
from models.lightning import ForecastModule
from pipelines.budget import TrainingTime
from pipelines.config import TrainConfig
from pipelines.errors import ForecastError
from pipelines.evaluate import Evaluation, choose_theta_weight, evaluate, log_accuracy
from pipelines.health import log_health
from pipelines.logged_model import log_forecaster
from pipelines.logger import RunLogger
from pipelines.plots import log_figure, loss_figure
from pipelines.resume import DATA_TAG, RunCheckpoint, checkpoint_dir, file_digest, resume_checkpoint
from pipelines.tracking import use_store

log = logging.getLogger("forecast")
ANCHOR_WINDOWS = 8192  # the seasonal blend has two numbers per horizon step: a few thousand windows fix them


@dataclass
class TrainResult:
    run_id: str
    model_uri: str            # models:/<name>/<version>, or runs:/<id>/model when not registered
    version: str | None
    metrics: dict[str, float]
    report: dict
    epochs: int
    seconds: float            # the whole command: data, training, evaluation, logging
    history: list[dict]       # per epoch: epoch, step, train_loss, val_loss
    health: dict | None       # the gradient-health report (pipelines/health.py), when checks ran
    fit_seconds: float = 0.0      # Lightning's fit alone
    predict_seconds: float = 0.0  # forecasting the test windows
    windows_per_second: float = 0.0  # training windows through the optimiser per second of fit (all processes)


def _loaders(prepared: Prepared, batch_size: int, seed: int):
    train = prepared.spec.dataset(prepared.panel, prepared.starts["train"])
    val = prepared.spec.dataset(prepared.panel, prepared.starts["val"])
    return train.loader(batch_size, shuffle=True, seed=seed), val.loader(batch_size, shuffle=False)


class EpochHistory(Callback):
    """Train and validation loss per epoch (read when each epoch ends): the loss plot, steps to converge."""

    def __init__(self):
        self.rows: list[dict] = []

    def state_dict(self) -> dict:  # saved in checkpoints, so a resumed run keeps its whole loss history
        return {"rows": self.rows}

    def load_state_dict(self, state: dict) -> None:
        self.rows = list(state["rows"])

    def on_train_epoch_end(self, trainer, module):
        m = trainer.callback_metrics
        if "val_loss" in m and "train_loss_epoch" in m:
            self.rows.append({"epoch": trainer.current_epoch, "step": trainer.global_step,
                              "train_loss": float(m["train_loss_epoch"]),
                              "val_loss": float(m["val_loss"])})


class StopOnCtrlC(Callback):
    """Ctrl-C (SIGINT) asks training to stop after the current batch, instead of raising KeyboardInterrupt at
    whatever the interpreter is doing (inside MLflow's asynchronous logging or a checkpoint write, which once
    left a process hanging); a second Ctrl-C interrupts at once. Installed for single-process training in the
    main thread only: data-parallel ranks must stop on the same batch, so they keep Lightning's handling."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self.requested, self._previous = False, None

    def __enter__(self):
        if self.enabled:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self.enabled:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def on_train_batch_end(self, trainer, *args):
        if self.requested:
            trainer.should_stop = True


def train(config: TrainConfig, rank: int = 0, nested: bool = False, register: bool = True,
          tags: dict | None = None) -> TrainResult | None:
    """Train, evaluate, log and register. With several processes (--devices/--num-nodes) every process runs
    this; only global rank 0 (`rank`) touches MLflow and returns a result, the others only train. `nested`
    makes the run a child of the active one (forecast compare, benchmark); `register=False` logs the model
    unregistered; `tags` are set on the run."""
    started = time.perf_counter()
    prepared = read_validated(config.data_path, lambda frame: prepare_training(frame, config.data),
                              config.data.text_columns)
    spec = prepared.spec
    model_config = replace(config.model, seq_len=spec.seq_len, horizon=spec.horizon,
                           n_features=prepared.panel.values.shape[1], n_known=spec.n_known,
                           lag_feature=spec.lag_feature)
    L.seed_everything(config.seed, workers=True, verbose=False)
    batch_size = config.resolved_batch_size(len(prepared.starts["train"]))
    train_loader, val_loader = _loaders(prepared, batch_size, config.seed)
    steps_per_epoch = math.ceil(len(train_loader) / config.world_size)  # each process sees its share
    total = config.max_steps if config.max_steps > 0 else config.max_epochs * steps_per_epoch
    module = ForecastModule(model_config, config.optim, total)
    x, y, future = train_loader.dataset.__getitems__(evenly_spaced(len(train_loader.dataset), ANCHOR_WINDOWS))
    module.model.fit_anchor(x, future, y)
    # always on: the per-step non-finite check; --health-every 0 turns off only the periodic checks
    monitor = GradientHealthMonitor(spec.feature_names, config.health)
    reporting = config.health.health_every > 0
    if rank != 0:
        with tempfile.TemporaryDirectory(prefix="forecast-") as tmp:
            checkpoint = ModelCheckpoint(dirpath=Path(tmp), monitor="val_loss", mode="min", save_top_k=1)
            callbacks = [checkpoint, monitor, RunCheckpoint(Path(tmp), config.checkpoint_every, log=False)]
            _trainer(config, None, tmp, callbacks, steps_per_epoch).fit(module, train_loader, val_loader)
        return None
    use_store(config.tracking_uri, config.experiment)
    data_sha = file_digest(config.data_path)
    r = prepared.report
    log.info(f"{r['series']} series, frequency {spec.freq.alias}, seq_len {spec.seq_len}, horizon {spec.horizon} "
             f"({r['horizon_source']}); {r['windows']['train']} training windows, batch {batch_size}, "
             f"{steps_per_epoch} steps per epoch; inputs: {', '.join(spec.feature_names)}")

    with tempfile.TemporaryDirectory(prefix="forecast-") as tmp:
        resume_from = resume_checkpoint(config, data_sha, Path(tmp)) if config.resume else None
        with mlflow.start_run(run_id=config.resume, nested=nested, tags=tags) as run:
            run_id, checkpoint, history, health = run.info.run_id, None, EpochHistory(), None
            kept_dir = checkpoint_dir(run_id)
            try:
                if not resume_from:
                    _log_inputs(config, prepared, module, batch_size, data_sha)
                checkpoint = ModelCheckpoint(dirpath=kept_dir, monitor="val_loss", mode="min", save_top_k=1)
                ctrl_c = StopOnCtrlC(enabled=config.world_size == 1)
                timing = TrainingTime(total, steps_per_epoch, len(val_loader), config.time_budget_seconds)
                callbacks = [checkpoint, history, monitor, RunCheckpoint(kept_dir, config.checkpoint_every, log=True),
                             ctrl_c, timing]
                trainer = _trainer(config, run_id, tmp, callbacks, steps_per_epoch)
                fit_started = time.perf_counter()
                with ctrl_c:
                    trainer.fit(module, train_loader, val_loader, ckpt_path=resume_from)
                if ctrl_c.requested:
                    raise KeyboardInterrupt  # stopped cleanly after a batch: the KILLED path below
                fit_seconds = time.perf_counter() - fit_started
                mlflow.log_metrics({"fit_seconds": fit_seconds, **({"announced_fit_seconds": timing.announced}
                                                                   if timing.announced else {})})
                if reporting:
                    health = log_health(monitor, pd.DataFrame(history.rows), trainer.global_step, run_id)
                if checkpoint.best_model_path and Path(checkpoint.best_model_path).exists():
                    best = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)
                    module.load_state_dict(best["state_dict"])
                elif resume_from:  # resumed elsewhere, with no better epoch since: the final weights
                    log.warning("the best checkpoint from before the resume is not on this machine and no later "
                                "epoch beat it: evaluating and logging the final weights")
                else:
                    raise ForecastError("training produced no checkpoint (no validation epoch completed)")
                windows_per_second = trainer.global_step * batch_size * config.world_size / max(fit_seconds, 1e-9)
                mlflow.log_metrics({"best_val_loss": float(checkpoint.best_model_score or float("nan")),
                                    "epochs": trainer.current_epoch, "steps": trainer.global_step,
                                    "train_windows_per_second": windows_per_second})  # validation time included

                theta_weight = _theta_weight(config, module, prepared, batch_size)
                evaluation = evaluate(module.model, prepared, batch_size, theta_weight)
                mlflow.log_metrics(evaluation.metrics)
                _log_evaluation(evaluation, prepared, pd.DataFrame(history.rows), model_config.quantiles)

                version = log_forecaster(module.model, spec, prepared, config.model_name if register else None, Path(tmp),
                                         theta_weight)
                mlflow.flush_async_logging()
                shutil.rmtree(kept_dir, ignore_errors=True)
            except NonFiniteError as err:
                kept = _keep_best(checkpoint)
                if reporting:
                    log_health(monitor, pd.DataFrame(history.rows), trainer.global_step, run_id)
                _end(run_id, "FAILED", kept_dir)
                raise ForecastError(f"training stopped: {err}; run {run_id} is marked FAILED; {kept}") from None
            except (KeyboardInterrupt, SystemExit):  # Ctrl-C; Lightning turns it into SystemExit after its shutdown
                kept = _keep_best(checkpoint)
                _end(run_id, "KILLED", kept_dir)
                raise ForecastError(f"training interrupted; run {run_id} is marked KILLED; {kept}; "
                                    f"continue with --resume {run_id}") from None
            except BaseException:
                _end(run_id, "FAILED", kept_dir)
                raise
    seconds = time.perf_counter() - started
    uri = f"models:/{config.model_name}/{version}" if version else f"runs:/{run_id}/model"
    return TrainResult(run_id, uri, version, evaluation.metrics, prepared.report, trainer.current_epoch, seconds,
                       history.rows, health, fit_seconds, evaluation.predict_seconds, windows_per_second)


def _theta_weight(config: TrainConfig, module: ForecastModule, prepared: Prepared, batch_size: int) -> float:
    """The weight of Theta in the forecast, chosen on validation windows (models/theta.py), logged."""
    if not config.theta_combination:
        return 0.0
    weight, errors = choose_theta_weight(module.model, prepared, batch_size)
    mlflow.log_params({"theta_weight": weight})
    mlflow.log_metrics({f"val_mae_theta_{int(w * 100)}": e for w, e in errors.items()})
    if errors:
        log.info(f"combination with Theta: weight {weight:g} (validation error of the median, scaled: "
                 + ", ".join(f"{w:g}: {e:.4f}" for w, e in errors.items()) + ")")
    return weight


def _log_inputs(config: TrainConfig, prepared: Prepared, module: ForecastModule, batch_size: int, data_sha: str):
    spec, m = prepared.spec, module.config
    where = ("experiment", "tracking_uri")  # where the run lives: MLflow records it (and `mlflow run` may differ)
    mlflow.log_params({**{k: v for k, v in config.flat().items() if k not in where}, "data.horizon_resolved": spec.horizon,
                       "data.frequency": spec.freq.alias, "data.season_length_resolved": spec.freq.season_length,
                       "model.n_features": m.n_features,
                       "model.n_known": m.n_known, "batch_size_resolved": batch_size,
                       "n_parameters": sum(p.numel() for p in module.parameters())})
    mlflow.log_dict(prepared.report, "data_report.json")
    mlflow.set_tags({"forecast.data_path": str(config.data_path), "forecast.features": ",".join(spec.feature_names),
                     DATA_TAG: data_sha})


def _end(run_id: str, status: str, kept_dir: Path) -> None:
    mlflow.flush_async_logging()
    mlflow.end_run(status=status)
    shutil.rmtree(kept_dir, ignore_errors=True)  # what is worth keeping was logged to the run


def _trainer(config: TrainConfig, run_id: str | None, root: str, callbacks: list, steps_per_epoch: int) -> L.Trainer:
    callbacks = [*callbacks, EarlyStopping(monitor="val_loss", mode="min", patience=config.patience)]
    if config.ema_decay:  # validation, checkpoints and the final weights are the average's
        callbacks.append(EMAWeightAveraging(decay=config.ema_decay))
    if config.progress:
        callbacks.append(TQDMProgressBar(refresh_rate=max(1, steps_per_epoch // 20)))
    # a step budget shorter than an epoch still ends on a validation pass (the checkpoint needs one)
    val_every = min(steps_per_epoch, config.max_steps) if config.max_steps > 0 else None
    budget = config.time_budget_seconds
    return L.Trainer(max_epochs=config.max_epochs, max_steps=config.max_steps, accelerator=config.accelerator,
                     max_time=timedelta(seconds=budget) if budget else None,
                     devices=config.devices, num_nodes=config.num_nodes, strategy=config.strategy,
                     val_check_interval=val_every, logger=RunLogger(run_id) if run_id else False,
                     callbacks=callbacks, default_root_dir=root,
                     gradient_clip_val=config.optim.grad_clip or None, deterministic=True,
                     enable_progress_bar=config.progress, enable_model_summary=False,
                     log_every_n_steps=max(1, min(50, steps_per_epoch)), num_sanity_val_steps=0)


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
        saved = sorted((p for p in best.parent.glob("*.ckpt") if p.name != "last.ckpt"), key=lambda p: p.stat().st_mtime)
        if not saved:
            return "no checkpoint had been written yet (interrupted while saving the first one)"
        best, score = saved[-1], "the last one completely written"
    mlflow.log_artifact(str(best), "checkpoints")
    return f"the best checkpoint so far ({score}) is kept as the run artifact checkpoints/{best.name}"


def _log_evaluation(evaluation: Evaluation, prepared: Prepared, history: pd.DataFrame, quantiles) -> None:
    log_accuracy(evaluation.table, evaluation.accuracy, prepared.panel, quantiles, "evaluation", "test")
    if len(history):
        log_figure(loss_figure(history), "plots/loss.png")
