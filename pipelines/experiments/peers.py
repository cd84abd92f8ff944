"""pytorch-forecasting's reference models (Baseline, NHiTS, TemporalFusionTransformer) trained and scored on
exactly our windows: the same scaled inputs (target, covariates, calendar features), the same input length and
horizon, the same train/validation/test windows, and the same budget (epochs, steps, patience, batch size,
seed, gradient clipping, early stopping on validation loss, best checkpoint). Each peer keeps its library's
defaults for everything else (architecture, optimiser, learning rate).

The windows are pytorch-forecasting's own `TimeSeriesDataSet`, filtered to the windows our split made, so each
peer sees its batches exactly as its users feed it. Its target normaliser is `EncoderNormalizer` (per window,
from the encoder only: our instance normalisation, and nothing fitted on later data); the other inputs arrive
already scaled on the training part, so its own scalers are switched off. pytorch_forecasting is imported
here only (~5 s).
"""
import tempfile
import time
import warnings
from dataclasses import dataclass

import lightning as L
import numpy as np
import pandas as pd
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from forecast.data.prepare import Prepared
from forecast.models.config import HealthConfig
from forecast.models.health import GradientHealthMonitor
from forecast.pipelines.config import Budget
from forecast.pipelines.errors import ForecastError
from forecast.pipelines.training.trainer import build_trainer

LABELS = {"baseline": "pf Baseline", "nhits": "pf NHiTS", "tft": "pf TemporalFusionTransformer"}


@dataclass
class PeerResult:
    name: str
    quantiles: np.ndarray       # (N, H, Q) in the scaled space, in the order of the test starts
    train_seconds: float
    predict_seconds: float
    n_parameters: int
    epochs: int
    hyperparameters: dict
    health: dict | None = None  # the gradient-health report (models/health.py) of a trained peer


def _frame(prepared: Prepared) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The panel as pytorch-forecasting's long frame: series_id, time_idx, target, x1..xF (safe names)."""
    p = prepared.panel
    lengths = p.lengths
    frame = pd.DataFrame(p.values, columns=["target", *(f"x{k}" for k in range(1, p.values.shape[1]))])
    frame.insert(0, "series_id", np.repeat(np.asarray(p.ids, dtype=str), lengths))
    frame.insert(1, "time_idx", np.arange(len(frame)) - np.repeat(p.offsets[:-1], lengths))
    names = list(frame.columns[2:])
    known = names[len(names) - p.n_known:] if p.n_known else []
    past = [n for n in names[1:] if n not in known]
    return frame, known, past


def _dataset(prepared: Prepared):
    from pytorch_forecasting import TimeSeriesDataSet
    from pytorch_forecasting.data import EncoderNormalizer

    frame, known, past = _frame(prepared)
    T, H = prepared.spec.seq_len, prepared.spec.horizon
    return TimeSeriesDataSet(frame, time_idx="time_idx", target="target", group_ids=["series_id"],
                             min_encoder_length=T, max_encoder_length=T, min_prediction_length=H,
                             max_prediction_length=H, time_varying_known_reals=known,
                             time_varying_unknown_reals=["target", *past], target_normalizer=EncoderNormalizer(),
                             scalers={name: None for name in [*known, *past]})


def _our_windows(prepared: Prepared, part: str) -> pd.MultiIndex:
    """Our windows of one part as (series id, relative row of the first forecast step)."""
    p, starts = prepared.panel, prepared.starts[part]
    series = p.series_of(starts)
    first_predicted = starts - p.offsets[series] + prepared.spec.seq_len
    return pd.MultiIndex.from_arrays([np.asarray(p.ids, dtype=str)[series], first_predicted])


def _theirs(index: pd.DataFrame) -> pd.MultiIndex:
    """pytorch-forecasting's windows (its decoded index) in the same terms."""
    return pd.MultiIndex.from_arrays([index["series_id"].astype(str).to_numpy(),
                                      index["time_idx_first_prediction"].to_numpy()])


def _windows(dataset, prepared: Prepared, part: str):
    """The dataset restricted to our windows of one part."""
    wanted = _our_windows(prepared, part)
    return dataset.filter(lambda index: _theirs(index).isin(wanted))


def _model(name: str, dataset, quantiles: tuple[float, ...]):
    from pytorch_forecasting import Baseline, NHiTS, TemporalFusionTransformer
    from pytorch_forecasting.metrics import QuantileLoss

    if name == "baseline":
        return Baseline()
    cls = {"nhits": NHiTS, "tft": TemporalFusionTransformer}[name]
    return cls.from_dataset(dataset, loss=QuantileLoss(list(quantiles)))


def health_monitor(dataset, prepared: Prepared, config: HealthConfig = HealthConfig()) -> GradientHealthMonitor:
    """The generic gradient-health monitor on a peer: its continuous inputs (`encoder_cont`, in the dataset's
    `reals` order) named as the user's columns."""
    frame_names = ["target", *(f"x{k}" for k in range(1, len(prepared.spec.feature_names)))]
    ours = dict(zip(frame_names, prepared.spec.feature_names))
    return GradientHealthMonitor([ours.get(name, name) for name in dataset.reals], config,
                                 inputs=lambda batch: batch[0]["encoder_cont"])


def _fit(model, train, val, budget: Budget, root: str, monitor: GradientHealthMonitor) -> tuple[int, int]:
    """Lightning fit under the budget (the Trainer our model gets), watched by the health monitor, then the
    best validation checkpoint's weights; the epochs and optimiser steps run."""
    best = ModelCheckpoint(dirpath=root, monitor="val_loss", mode="min", save_top_k=1, save_weights_only=True)
    train_loader = train.to_dataloader(train=True, batch_size=budget.batch_size, num_workers=0)
    trainer = build_trainer(budget, [best, monitor], root, len(train_loader))
    trainer.fit(model, train_loader, val.to_dataloader(train=False, batch_size=budget.batch_size, num_workers=0))
    if best.best_model_path:  # our own file, written a moment ago
        model.load_state_dict(torch.load(best.best_model_path, map_location="cpu", weights_only=False)["state_dict"])
    return trainer.current_epoch, trainer.global_step


def run_peer(name: str, prepared: Prepared, budget: Budget, quantiles: tuple[float, ...],
             checks: HealthConfig = HealthConfig()) -> PeerResult:
    """Train (except the Baseline), watched by the gradient-health monitor, and forecast the test windows with
    one reference model."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="pytorch_forecasting")
        warnings.filterwarnings("ignore", message=".*is an instance of `nn.Module` and is already saved.*")
        warnings.filterwarnings("ignore", message=".*(does not have many workers|treespec|LeafSpec).*")
        L.seed_everything(budget.seed, workers=True, verbose=False)
        dataset = _dataset(prepared)
        train, val, test = (_windows(dataset, prepared, part) for part in ("train", "val", "test"))
        model = _model(name, dataset, quantiles)
        with tempfile.TemporaryDirectory(prefix="forecast-peer-") as tmp:
            epochs, train_seconds, health = 0, 0.0, None    # the Baseline has nothing to train
            if name != "baseline":
                monitor = health_monitor(dataset, prepared, checks)
                started = time.perf_counter()
                epochs, steps = _fit(model, train, val, budget, tmp, monitor)
                train_seconds = time.perf_counter() - started
                health = monitor.report(steps)
            started = time.perf_counter()
            q = _predict(model, test, budget.batch_size, len(quantiles), tmp, point_only=name == "baseline")
            predict_seconds = time.perf_counter() - started
    order = _order(test, prepared)
    if (order < 0).any():
        raise ForecastError(f"{LABELS[name]}: pytorch-forecasting did not cut {int((order < 0).sum())} of our test "
                            "windows")
    hyper = {k: v for k, v in dict(model.hparams).items() if isinstance(v, (int, float, str, bool)) and v is not None}
    return PeerResult(name, np.sort(q[order], axis=-1), train_seconds, predict_seconds,
                      sum(p.numel() for p in model.parameters()), epochs, hyper, health)


def _predict(model, test, batch_size: int, n_quantiles: int, root: str, point_only: bool) -> np.ndarray:
    loader = test.to_dataloader(train=False, batch_size=batch_size, num_workers=0)
    kwargs = {"accelerator": "cpu", "devices": 1, "logger": False, "enable_progress_bar": False,
              "default_root_dir": root}
    if not point_only:
        return model.predict(loader, mode="quantiles", trainer_kwargs=kwargs).cpu().numpy()
    point = model.predict(loader, mode="prediction", trainer_kwargs=kwargs).cpu().numpy()   # Baseline: no quantiles
    return np.repeat(point[..., None], n_quantiles, axis=-1)


def _order(windows, prepared: Prepared, part: str = "test") -> np.ndarray:
    """Positions in the peer's windows (and its unshuffled output) of each of our starts of `part`."""
    return _theirs(windows.decoded_index).get_indexer(_our_windows(prepared, part))
