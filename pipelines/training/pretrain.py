"""`forecast pretrain`: the network trained on a synthetic corpus (data/synthetic.py), saved as a checkpoint that
`forecast train` starts from (pipelines/training/pretrained.py).

One checkpoint per input layout: `plain` (the target alone: panels without a season) and `seasonal` (the target
and its seasonal lag channel). The corpus is cut by period into panels, each prepared exactly as a user's file
is (`prepare_training`: per-series scalers, the lag channel at the panel's own season, train/validation
windows), so the network sees the inputs it will be fine-tuned on. A batch is drawn from one panel at a time (its
season fixes how the lag channel repeats over the horizon), panels in proportion to their windows.

Each checkpoint trains in its own MLflow run with the gradient-health monitor on, and is logged there too.
"""
import contextlib
import logging
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import lightning as L
import mlflow
import numpy as np
import pandas as pd
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from forecast.data.config import DataConfig
from forecast.data.prepare import Prepared, prepare_training
from forecast.data.synthetic import corpus
from forecast.data.windows import WindowDataset, evenly_spaced
from forecast.models.forecaster_health import ForecasterHealthMonitor
from forecast.models.lightning import ForecastModule
from forecast.models.pretrained import roles
from forecast.pipelines.config import PretrainConfig
from forecast.pipelines.errors import ForecastError
from forecast.pipelines.tracking import use_store
from forecast.pipelines.training.callbacks import EpochHistory, EpochLine, stop_reason
from forecast.pipelines.training.health_log import log_health
from forecast.pipelines.training.logger import RunLogger
from forecast.pipelines.training.trainer import build_trainer

log = logging.getLogger("forecast")
STEPS_PER_EPOCH = 250          # a validation pass and a health row this often
VALIDATION_WINDOWS = 4096      # per checkpoint, spread over the panels
ANCHOR_WINDOWS = 8192
FORMAT = 1                     # the checkpoint file's layout version
TAME_LIMIT = 20.0


@dataclass
class Pretrained:
    layout: str
    path: Path
    run_id: str
    steps: int
    seconds: float
    best_val_loss: float
    windows: int
    series: int
    stopped: str


class Mixture(torch.utils.data.IterableDataset):
    """`batches` batches, each from one panel's windows, panels drawn in proportion to their windows."""

    def __init__(self, parts: list[WindowDataset], batch_size: int, batches: int, seed: int):
        self.parts, self.batch_size, self.batches = parts, batch_size, batches
        sizes = np.array([len(p) for p in parts], dtype=float)
        self.weights, self.seed, self.epoch = sizes / sizes.sum(), seed, 0

    def __len__(self) -> int:
        return self.batches

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        for _ in range(self.batches):
            part = self.parts[rng.choice(len(self.parts), p=self.weights)]
            yield part.__getitems__(rng.integers(0, len(part), size=min(self.batch_size, len(part))))


def tame(frame: pd.DataFrame, limit: float = TAME_LIMIT) -> pd.DataFrame:
    """The corpus less the series whose last fifth strays over `limit` spreads of their first four fifths from
    its mean (demand that starts after a run of zeros, a growth spurt): scaled by their training part, as every
    series is, their validation targets sit hundreds of units away, and their loss would swamp every batch and
    the choice of the best checkpoint."""
    def strays(values: pd.Series) -> bool:
        v = values.to_numpy()
        cut = max(1, int(0.8 * len(v)))
        head = v[:cut]
        spread = head.std() if head.std() > 1e-8 * max(abs(head.mean()), 1.0) else 1.0
        return bool(np.abs(v - head.mean()).max() > limit * spread)
    wild = frame.groupby("series_id", sort=False)["value"].apply(strays)
    return frame[~frame["series_id"].map(wild)]


def panels(frame: pd.DataFrame, layout: str, horizon: int, seq_len: int) -> list[Prepared]:
    """The corpus prepared as the user's data would be: `plain`, every series in one panel without a lag channel;
    `seasonal`, the seasonal series, one panel per period with the lag channel at that period."""
    out = []
    groups = frame.groupby("period", sort=True) if layout == "seasonal" else [(1, frame)]
    for period, part in groups:
        if layout == "seasonal" and period == 1:
            continue
        config = DataConfig(id_col="series_id", time_col="time", target="value", covariates=(), horizon=horizon,
                            seq_len=seq_len, season_length=int(period) if layout == "seasonal" else 1,
                            seasonal_lag=layout == "seasonal")
        prepared = prepare_training(part[["series_id", "time", "value"]], config)
        if len(prepared.starts["train"]):
            out.append(prepared)
    if not out:
        raise ForecastError(f"the corpus gives no {layout} training window: raise --series")
    return out


def pretrain(config: PretrainConfig) -> list[Pretrained]:
    """Generate the corpus, then train and save one checkpoint per layout (module docstring)."""
    started = time.perf_counter()
    frame = corpus(config.series, config.corpus_seed)
    kept = tame(frame)
    log.info(f"corpus: {config.series} synthetic series, {len(frame):,} points, generated in "
             f"{time.perf_counter() - started:.0f} s (seed {config.corpus_seed}); "
             f"{frame['series_id'].nunique() - kept['series_id'].nunique()} series left out as too wild (`tame`)")
    frame = kept
    use_store(config.tracking_uri, config.experiment)
    out_dir = Path(config.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [_one(config, frame, layout, out_dir) for layout in config.layouts]


@contextlib.contextmanager
def _quiet():
    """The corpus' short series and splits are expected: not warnings a user should read."""
    logger = logging.getLogger("forecast")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _one(config: PretrainConfig, frame: pd.DataFrame, layout: str, out_dir: Path) -> Pretrained:
    """One checkpoint: its panels, its model, its run."""
    started = time.perf_counter()
    with _quiet():
        prepared = panels(frame, layout, config.horizon, config.model.seq_len)
    spec = prepared[0].spec
    model_config = replace(config.model, horizon=config.horizon, n_features=prepared[0].panel.values.shape[1],
                           n_known=spec.n_known, lag_feature=spec.lag_feature)
    L.seed_everything(config.seed, workers=True, verbose=False)
    train_parts = [p.spec.dataset(p.panel, p.starts["train"]) for p in prepared]
    val_parts = [p.spec.dataset(p.panel, p.starts["val"]) for p in prepared if len(p.starts["val"])]
    corpus_settings = {"series": config.series, "corpus_seed": config.corpus_seed,
                       "series_used": sum(len(p.panel.ids) for p in prepared),
                       "windows": sum(len(p) for p in train_parts),
                       "periods": [p.spec.freq.season_length for p in prepared]}
    log.info(f"{layout}: {corpus_settings['series_used']} series in {len(prepared)} panel(s) (periods "
             f"{', '.join(map(str, corpus_settings['periods']))}), {corpus_settings['windows']:,} training windows")
    module = ForecastModule(model_config, config.optim, config.max_steps)
    _fit_anchor(module, train_parts)
    features = ["value", *(["value_lag"] if spec.lag else [])]
    with mlflow.start_run(run_name=f"pretrain-{layout}", tags={"forecast.kind": "pretrain"}) as run:
        # the corpus as the run's dataset (schema, size, a digest of its rows: MLflow's), as a user's file is
        with warnings.catch_warnings():   # its schema's hint on integer columns is for model signatures
            warnings.simplefilter("ignore", UserWarning)
            mlflow.log_input(mlflow.data.from_pandas(frame, name=f"synthetic corpus (seed {config.corpus_seed}, "
                                                                f"{config.series} series)"), context="pretraining")
        mlflow.log_params({"layout": layout, **{k: v for k, v in corpus_settings.items() if k != "periods"},
                           "horizon": config.horizon, "max_steps": config.max_steps, "batch_size": config.batch_size,
                           "seed": config.seed, **{f"model.{k}": v for k, v in asdict(config.model).items()
                                                   if k not in ("horizon", "n_features", "n_known", "lag_feature")},
                           **{f"optim.{k}": v for k, v in asdict(config.optim).items()}})
        steps, best_loss, stopped = _train(config, module, train_parts, val_parts, run.info.run_id, features)
        seconds = time.perf_counter() - started
        path = out_dir / f"{layout}.pt"
        save(path, module, layout, features, spec.lag_feature,
             corpus_settings, {"steps": steps, "batch_size": config.batch_size, "seed": config.seed,
                               "seconds": seconds, "best_val_loss": best_loss, "optim": asdict(config.optim),
                               "run_id": run.info.run_id})
        mlflow.log_metrics({"best_val_loss": best_loss, "pretrain_seconds": seconds, "steps": steps})
        mlflow.log_artifact(str(path), "checkpoint")
        mlflow.set_tag("mlflow.note.content", f"pretrained {layout}: {steps} steps in {seconds:.0f} s, best "
                                              f"validation loss {best_loss:.4f}; stopped by {stopped}")
    return Pretrained(layout, path, run.info.run_id, steps, seconds, best_loss, corpus_settings["windows"],
                      corpus_settings["series_used"], stopped)


def _train(config: PretrainConfig, module: ForecastModule, train_parts: list[WindowDataset],
           val_parts: list[WindowDataset], run_id: str, feature_names: list[str]) -> tuple[int, float, str]:
    """Lightning's fit under the gradient-health monitor, the best checkpoint loaded back; returns the steps run,
    the best validation loss and why training stopped."""
    train_loader = torch.utils.data.DataLoader(Mixture(train_parts, config.batch_size, STEPS_PER_EPOCH, config.seed),
                                               batch_size=None)
    monitor, history = ForecasterHealthMonitor(feature_names, config.health), EpochHistory()
    with tempfile.TemporaryDirectory(prefix="forecast-pretrain-") as tmp:
        checkpoint = ModelCheckpoint(dirpath=tmp, monitor="val_loss", mode="min", save_top_k=1)
        callbacks = [checkpoint, history, monitor, EpochLine(config.max_steps, STEPS_PER_EPOCH,
                                                             config.time_budget_seconds)]
        trainer = build_trainer(config.budget(), callbacks, tmp, STEPS_PER_EPOCH, RunLogger(run_id), ema_decay=0.99)
        trainer.fit(module, train_loader, _validation_batches(val_parts, config.batch_size))
        best = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)
        module.load_state_dict(best["state_dict"])
    if config.health.health_every > 0:
        log_health(monitor, pd.DataFrame(history.rows), trainer.global_step, run_id)
    return (trainer.global_step, float(checkpoint.best_model_score),
            stop_reason(trainer, history.rows, -1, config.max_steps))


def _fit_anchor(module: ForecastModule, parts: list[WindowDataset]) -> None:
    """The seasonal blend fitted on windows from every panel (fine-tuning refits it on the user's)."""
    share = max(1, ANCHOR_WINDOWS // len(parts))
    batches = [p.__getitems__(evenly_spaced(len(p), share)) for p in parts]
    x, y, future = (torch.cat(t) for t in zip(*batches))
    module.model.fit_anchor(x, future, y)


def _validation_batches(parts: list[WindowDataset], batch_size: int) -> torch.utils.data.DataLoader:
    """A fixed set of validation batches, spread over the panels (one panel per batch)."""
    share = max(1, VALIDATION_WINDOWS // max(1, len(parts)))
    out = []
    for part in parts:
        index = evenly_spaced(len(part), share)
        out += [part.__getitems__(index[i:i + batch_size]) for i in range(0, len(index), batch_size)]
    return torch.utils.data.DataLoader(out, batch_size=None)   # a list would read as one loader per batch


def save(path: Path, module: ForecastModule, layout: str, feature_names: list[str], lag_feature: int,
         corpus_settings: dict, training: dict) -> None:
    """The checkpoint: weights (float32), the architecture, each input's role, the corpus and training settings."""
    torch.save({"format": FORMAT, "layout": layout, "state_dict": module.model.state_dict(),
                "model_config": asdict(module.model.config), "roles": roles(feature_names, lag_feature),
                "corpus": corpus_settings, "training": training}, path)

