"""Rolling-origin backtest of a logged model: W origins one horizon apart at the end of every series. By default
(`auto_windows`) up to AUTO_WINDOWS, as many as lie after the data the model saw (its training file less the
held-out test part) where the data goes on after it: origins inside it score targets the model was trained on.

At each origin the model gets only the rows before it (plus, for known-future covariates, those columns of
the next horizon rows with the target and past covariates blanked), through the same `Predictor` that
serves it. Naive and seasonal-naive forecasts are scored on the same origins; MASE is scaled by each series'
history before its first origin.
"""
import logging
from dataclasses import dataclass

import mlflow
import numpy as np
import pandas as pd

from forecast.data.errors import DataError
from forecast.data.frequency import regularise
from forecast.data.io import read_validated
from forecast.data.schema import ID, TARGET, TIME, run_starts
from forecast.data.windows import Panel
from forecast.models.naive import naive_forecasts
from forecast.pipelines.config import BacktestConfig
from forecast.pipelines.evaluation.accuracy import Accuracy, accuracy, flat_metrics, logged
from forecast.pipelines.evaluation.evaluate import log_accuracy
from forecast.pipelines.evaluation.metrics import seasonal_scales
from forecast.pipelines.serving.inference import Predictor, Request
from forecast.pipelines.serving.loading import load_predictor
from forecast.pipelines.tracking import log_dataset, resolved, use_store

log = logging.getLogger("forecast")
AUTO_WINDOWS = 3


@dataclass
class BacktestResult:
    run_id: str
    metrics: dict[str, float]
    accuracy: Accuracy
    windows: int
    series: int
    errors: pd.Series   # the median's MAE over each (series, origin) window, in the series' MASE scale


def _request(predictor: Predictor, regular: pd.DataFrame, position: np.ndarray, origin: np.ndarray) -> Request:
    """Rows before each series' origin, and the next horizon rows with only known covariates left, as the
    predictor's request (canonical columns throughout: no round trip through the user's names)."""
    keep = (position < origin + predictor.spec.horizon) & (origin >= 1)   # a series with no history sits out
    rows = regular[keep].copy()
    rows.loc[(position >= origin)[keep], [TARGET, *predictor.spec.schema.covariates]] = np.nan
    return predictor.request(rows.reset_index(drop=True))


def auto_windows(regular: pd.DataFrame, spec) -> int:
    """Up to AUTO_WINDOWS origins per series, all after the data the model saw where every series goes on for
    at least a horizon after it; else AUTO_WINDOWS (the warning below says where they lie)."""
    until = seen_until(spec)
    if until is None:
        return AUTO_WINDOWS
    fit = int((regular[TIME] > until).groupby(regular[ID]).sum().min()) // spec.horizon
    if 1 <= fit < AUTO_WINDOWS:
        log.info(f"backtest: {fit} window(s) per series after the data the model saw (it ends {until}); "
                 f"--windows N asks for more")
    return min(fit, AUTO_WINDOWS) if fit >= 1 else AUTO_WINDOWS


def backtest_table(predictor: Predictor, raw: pd.DataFrame, windows: int | None) -> tuple[pd.DataFrame, dict, Panel]:
    """The forecasts of `windows` origins per series (None: `auto_windows`) with their actual values and the
    naive ones, each series' MASE scale, and the panel."""
    spec, H = predictor.spec, predictor.spec.horizon
    history, left_out = predictor.history_of(raw)   # columns and step checked as predict checks them
    if left_out:
        log.warning(f"{left_out} row(s) after their series' last observed target are left out: a backtest scores "
                    "observed targets only")
    regular, _ = regularise(history, spec.freq, spec.scaled_columns, spec.fill)
    windows = auto_windows(regular, spec) if windows is None else windows
    ids = regular[ID].to_numpy()
    offsets = np.append(run_starts(ids), len(ids))           # each series' first row, and the end
    lengths = np.diff(offsets)
    position = np.arange(len(ids)) - np.repeat(offsets[:-1], lengths)
    n = np.repeat(lengths, lengths)
    if lengths.max() < windows * H + 1:
        raise DataError(f"no series is long enough for {windows} backtest window(s) of horizon {H}: "
                        f"the longest has {int(lengths.max())} points")
    raw_target = regular[TARGET].to_numpy(np.float64)
    parts = []
    for k in range(windows, 0, -1):                      # earliest origin first
        origin = n - k * H                               # per row: its series' origin for this window
        forecast = predictor.forecast(_request(predictor, regular, position, origin))
        ok = (lengths - k * H) >= 1                      # series with any history before this origin
        origins = (offsets[:-1] + lengths - k * H)[ok]
        actual = raw_target[origins[:, None] + np.arange(H)]
        naive, seasonal, _ = naive_forecasts(raw_target, origins, offsets[:-1][ok], H, spec.freq.season_length)
        series = ids[offsets[:-1]][ok]
        forecast = forecast.set_index(ID).loc[series].reset_index()
        forecast["origin"] = np.repeat(regular[TIME].to_numpy()[origins], H)
        forecast["actual"], forecast["naive"] = actual.ravel(), naive.ravel()
        forecast["seasonal_naive"] = seasonal.ravel()
        parts.append(forecast)
    table = pd.concat(parts, ignore_index=True)
    first = offsets[:-1] + np.maximum(lengths - windows * H, 1)
    scales = seasonal_scales(ids[offsets[:-1]], raw_target, offsets[:-1], first, spec.freq.season_length)
    panel = Panel(ids[offsets[:-1]], offsets, regular[TIME].to_numpy(), np.zeros((len(regular), 1), np.float32),
                  raw_target, 0)
    return table, scales, panel


def seen_until(spec):
    """The last time the model's weights and combination saw (its training file less the held-out test part;
    for a model from before that was kept, the file's end), in the data's own kind (int or Timestamp); None if
    unknown (a model from before either was kept)."""
    until = spec.seen_until or spec.trained_until
    if until is None:
        return None
    return int(until) if spec.freq.kind == "int" else pd.Timestamp(until)


def _warn_inside_training(table: pd.DataFrame, spec) -> None:
    """One warning line where backtest origins lie inside the data the model saw (its training file less its
    held-out test part): scores there are optimistic (its weights saw those targets)."""
    until = seen_until(spec)
    if until is None:
        return
    origins = table.drop_duplicates([ID, "origin"])["origin"]
    inside = int((origins <= until).sum())
    if inside:
        log.warning(f"{inside} of {len(origins)} backtest origins lie inside the data the model's weights saw (up "
                    f"to {until}): their scores are optimistic; backtest on data that continues after it")


def window_errors(table: pd.DataFrame, scales: dict) -> pd.Series:
    """Each (series, origin) window's MAE of the point forecast over its horizon, divided by the series' MASE
    scale: the cases a paired comparison of two models runs over (promote)."""
    errors = (table["prediction"] - table["actual"]).abs().groupby([table[ID], table["origin"]]).mean()
    return errors / errors.index.get_level_values(0).map(scales).to_numpy(np.float64)


def backtest(config: BacktestConfig, predictor: Predictor | None = None, run_name: str | None = None,
             nested: bool = False) -> BacktestResult:
    """Backtest `config.model_uri` (`predictor`: that model, where the caller has loaded it already), logged as a
    run (`run_name`; `nested` under the active run: promote's)."""
    model_uri, data_path, windows = config.model_uri, config.data_path, config.windows
    use_store(config.tracking_uri, reads=model_uri)
    use_store(config.tracking_uri, config.experiment)
    predictor = predictor or load_predictor(model_uri)
    quantiles = predictor.quantiles
    table, scales, panel = read_validated(data_path, lambda raw: backtest_table(predictor, raw, windows),
                                         predictor.spec.text_columns)
    _warn_inside_training(table, predictor.spec)
    windows = int(table.drop_duplicates([ID, "origin"]).groupby(ID).size().max())
    result = accuracy(table, scales, quantiles)
    metrics = flat_metrics(result.overall, "backtest", quantiles)
    tags = {"forecast.kind": "backtest", "forecast.model_uri": model_uri, "forecast.model": resolved(model_uri)}
    with mlflow.start_run(run_name=run_name, nested=nested, tags=tags) as run:
        mlflow.log_params({"model_uri": model_uri, "data_path": str(data_path), "windows": windows,
                           "horizon": predictor.spec.horizon})
        log_dataset(str(data_path), "backtest")
        mlflow.log_metrics(logged(metrics))
        log_accuracy(table, result, panel, quantiles, "backtest", "backtest")
    return BacktestResult(run.info.run_id, metrics, result, windows, int(table[ID].nunique()),
                          window_errors(table, scales))
