"""Forecasting from history rows with a trained bundle: the code behind `forecast predict`, the pyfunc
model and the scoring server.

Request: history rows (series id, timestamp, target[, covariates]); rows after a series' last observed
target carry known covariates for the future. Response: one row per (series, step) with `series_id,
timestamp, step, prediction, q<tau>..., method`, sorted by series id then step, where `method` is
`model` (the network's forecast, combined with statistical members where training chose so: models/combination.py),
or for a series shorter than the model's context (seq_len, or a whole season where that is longer and the model
reads the seasonal lag channel) the members of the short-series forecast chosen in training (models/short_series.py:
`theta`, `drift`, `theta+drift`, ...), or `seasonal_naive`/`naive` where validation preferred none of them or the
model predates it.

Two jobs, two halves of `Predictor`: `prepare` turns a user's rows (their column names, parsed and checked) into a
`Request` on the model's grid; `forecast` turns a Request into every trained step and level. `predict` does
both and then keeps the horizon and levels asked for. The backtest builds its Requests itself and calls
`forecast` directly.

Everything this module needs from the project is imported at the top: the pyfunc loads it in isolation
(pipelines/serving/pyfunc_model.py), so a function-level import of `forecast.*` would break there.
"""
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from forecast.data.calendar import calendar_features
from forecast.data.errors import DataError, some
from forecast.data.frequency import already_regular, check_one_frequency, infer_frequency, regularise
from forecast.data.holidays import holiday_features
from forecast.data.prepare import DataSpec, build_panel
from forecast.data.scaling import SeriesScaler
from forecast.data.schema import ID, TARGET, TIME, canonical, history_rows, run_starts, split_ids
from forecast.models.combination import Combination
from forecast.models.forecaster import Forecaster, predict_quantiles
from forecast.models.members import window_forecasts
from forecast.models.naive import naive_forecasts
from forecast.models.short_series import Fallback, naive_intervals
from forecast.pipelines.config import PredictConfig
from forecast.pipelines.serving.bundle import load_bundle

log = logging.getLogger("forecast")
BATCH_SIZE = PredictConfig.batch_size   # series per inference batch: the one default, PredictConfig's


@dataclass(frozen=True)
class Request:
    """What the network forecasts from, in canonical columns (data/schema.py): each series' history on the
    model's grid, and the rows of known future covariates after it."""
    history: pd.DataFrame
    future: pd.DataFrame


class Predictor:
    def __init__(self, model: Forecaster, spec: DataSpec, combination: Combination = Combination(),
                 fallback: Fallback = Fallback()):
        self.model, self.spec, self.combination, self.fallback = model, spec, combination, fallback
        self.quantiles = model.config.quantiles

    @classmethod
    def load(cls, directory) -> "Predictor":
        return cls(*load_bundle(directory))

    @property
    def columns(self) -> list[str]:
        return [ID, *self.spec.schema.id_parts, TIME, "step", "prediction", *[f"q{q}" for q in self.quantiles],
                "method"]

    def _check_columns(self, frame: pd.DataFrame) -> None:
        s = self.spec.schema
        needed = [c for c in (*s.id_columns, s.time_col, s.target, *s.covariates, *s.known_covariates) if c]
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise DataError(f"input is missing column(s) {', '.join(map(repr, missing))} "
                            f"(expected: {', '.join(needed)})")

    # ---- a user's request: their columns in, the horizon and levels they asked for out ------------------
    def predict(self, raw: pd.DataFrame, batch_size: int = BATCH_SIZE, progress: bool = False,
                horizon: int | None = None, quantiles: tuple[float, ...] | None = None) -> pd.DataFrame:
        """History rows -> forecast rows (module docstring); the first `horizon` steps (default: the trained
        horizon) with the `quantiles` asked for (default: the trained ones; `select`)."""
        horizon, quantiles = self.check_request(horizon, quantiles)
        return self.select(self.forecast(self.prepare(raw), batch_size, progress), horizon, quantiles)

    def prepare(self, raw: pd.DataFrame) -> Request:
        """A user's rows (their column names, parsed and checked: data/schema.py) -> the regular request."""
        return self.request(self._canonical(raw))  # sorted by series, then time

    def history_of(self, raw: pd.DataFrame) -> tuple[pd.DataFrame, int]:
        """A user's rows as canonical history, checked as `prepare` checks them (its columns, the model's step),
        without the rows after each series' last observed target, and how many those were: a backtest scores
        observed targets only (empty ones would be filled with the last value and scored against it)."""
        history, future = self._split(self._canonical(raw))
        return history, len(future)

    def request(self, frame: pd.DataFrame) -> Request:
        """Canonical rows -> history on the model's grid (checked to be at its frequency) and future rows: rows
        after a series' last observed target carry known covariates for the future."""
        history, future = self._split(frame)
        return Request(regularise(history, self.spec.freq, self.spec.scaled_columns, self.spec.fill)[0], future)

    def _canonical(self, raw: pd.DataFrame) -> pd.DataFrame:
        if raw is None or len(raw) == 0:
            raise DataError("no input rows: send history rows (series id, timestamp, target)")
        self._check_columns(raw)
        return canonical(raw, self.spec.schema)

    def _split(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(history, future rows), the history checked to step at the model's frequency."""
        is_history = history_rows(frame)
        history, future = ((frame, frame.iloc[:0]) if is_history.all()          # no rows of known future covariates
                           else (frame[is_history].reset_index(drop=True), frame[~is_history]))
        self._check_frequency(history)
        return history, future

    def check_request(self, horizon, quantiles) -> tuple[int, tuple[float, ...]]:
        """The horizon and quantile levels asked for, checked against what the model was trained for."""
        H, trained = self.spec.horizon, tuple(self.quantiles)
        horizon = H if horizon is None else horizon
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or not 1 <= horizon <= H:
            raise DataError(f"horizon must be a whole number from 1 to {H} (the horizon the model was trained for), "
                            f"got {horizon!r}")
        quantiles = trained if quantiles is None else tuple(quantiles)
        for tau in quantiles:
            if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not min(trained) <= tau <= max(trained):
                raise DataError(f"quantile {tau!r} is outside the trained levels {min(trained):g}..{max(trained):g} "
                                "(a model trained with --quantiles covering it can forecast it)")
        if not quantiles:
            raise DataError("quantiles: give at least one level")
        repeated = sorted({f"{tau}" for tau in quantiles if list(quantiles).count(tau) > 1})
        if repeated:   # one column a level: a repeated level would come back once
            raise DataError(f"quantiles: {', '.join(repeated)} given twice; give each level once")
        return int(horizon), tuple(float(tau) for tau in quantiles)

    def select(self, out: pd.DataFrame, horizon: int, quantiles: tuple[float, ...]) -> pd.DataFrame:
        """The first `horizon` steps, and a column per asked level: a trained level's own, or, between two trained
        levels, their forecasts interpolated linearly in the level (q0.25 lies 0.375 of the way from q0.1 to
        q0.5)."""
        trained = list(self.quantiles)
        if horizon == self.spec.horizon and tuple(quantiles) == tuple(trained):
            return out
        out = out[out["step"] <= horizon].reset_index(drop=True)
        q = out[[f"q{t}" for t in trained]].to_numpy(np.float64)                       # (N, Q)
        columns = {}
        for tau in quantiles:
            upper = min(int(np.searchsorted(trained, tau)), len(trained) - 1)
            lower = upper if trained[upper] == tau else upper - 1
            share = 0.0 if upper == lower else (tau - trained[lower]) / (trained[upper] - trained[lower])
            columns[f"q{tau}"] = q[:, lower] + share * (q[:, upper] - q[:, lower])   # named in full: no collision
        fixed = out.drop(columns=[*(f"q{t}" for t in trained), "method"])
        return pd.concat([fixed, pd.DataFrame(columns, index=out.index), out[["method"]]], axis=1)

    # ---- regular rows -> every trained step and level ------------------------------------------------
    def forecast(self, request: Request, batch_size: int = BATCH_SIZE, progress: bool = False) -> pd.DataFrame:
        """The trained horizon and quantiles of every series: the network's (`model`) where a series fills its
        context, the fallback's where it is shorter."""
        spec, T = self.spec, self.spec.context
        regular, future = request.history, request.future
        ids = regular[ID].to_numpy()
        starts = run_starts(ids)
        short = pd.Index(ids[starts][np.diff(np.r_[starts, len(ids)]) < T])   # series with fewer than T rows
        if not len(short):
            return self._with_id_parts(self._forecast(regular, future, batch_size, progress))
        need = f"seq_len {spec.seq_len}, a season {spec.lag}" if spec.lag else f"seq_len {T}"
        method = ("the short-series combination (named in `method`)" if not self.fallback.is_default else
                  f"a {'seasonal-naive/' if spec.freq.season_length > 1 else ''}naive forecast")
        log.warning(f"{len(short)} series shorter than {T} rows ({need}) get {method}: "
                    f"{some(short.tolist())}")
        is_short = regular[ID].isin(short)
        parts = [self._fallback(regular[is_short])]
        if not is_short.all():
            parts.append(self._forecast(regular[~is_short].reset_index(drop=True), future, batch_size, progress))
        out = pd.concat(parts, ignore_index=True).sort_values([ID, "step"], kind="stable")
        return self._with_id_parts(out.reset_index(drop=True))

    def _with_id_parts(self, out: pd.DataFrame) -> pd.DataFrame:
        """The output columns, with each id column of a multi-column key beside the joined id."""
        if self.spec.schema.id_parts:
            out = pd.concat([out, split_ids(out[ID], self.spec.schema)], axis=1)
        return out if list(out.columns) == self.columns else out[self.columns]

    def _check_frequency(self, history: pd.DataFrame) -> None:
        """History at another step than the model's (daily rows for an hourly model) would be filled in onto the
        model's grid and forecast as if nothing were wrong: refuse it, naming both steps."""
        freq = self.spec.freq
        if already_regular(history, freq) or history[ID].nunique() == len(history):  # on the grid, or one row each
            return
        given = infer_frequency(history, freq.kind).alias
        if given != freq.alias:
            raise DataError(f"the history's step is {given!r} (its most common), but the model forecasts at "
                            f"{freq.alias!r}: send history rows at the model's frequency")
        check_one_frequency(history, freq)

    def _scaler_for(self, regular: pd.DataFrame) -> SeriesScaler:
        """The training scalers, plus scalers fitted on the given history for series never seen in training."""
        scaler, ids = self.spec.scaler, regular[ID].to_numpy()
        starts = run_starts(ids)                                     # looked up once a series, not once a row
        unseen = np.repeat(scaler.rows_for(ids[starts]) < 0, np.diff(np.r_[starts, len(ids)]))
        if unseen.any():
            scaler = scaler.extend(SeriesScaler.fit(regular[unseen], ID, self.spec.scaled_columns))
        return scaler

    def _future_known(self, ids: np.ndarray, grid: np.ndarray, future: pd.DataFrame, scaler: SeriesScaler,
                      rows: np.ndarray, lagged: np.ndarray) -> np.ndarray:
        """(S, H, K) known features of the horizon: known covariates from future rows (scaled), the seasonal lag
        channel (`lagged`, the scaled target one season before each step), calendar."""
        spec = self.spec
        S, H = grid.shape
        parts = []
        known = list(spec.schema.known_covariates)
        if known:
            wanted = pd.DataFrame({ID: np.repeat(ids, H), TIME: grid.ravel()})
            merged = wanted.merge(future[[ID, TIME, *known]], on=[ID, TIME], how="left")
            values = merged[known].to_numpy(np.float64)
            if np.isnan(values).any():
                r, c = np.argwhere(np.isnan(values))[0]
                raise DataError(f"series {merged[ID].iloc[r]!r}: known covariate {known[c]!r} is missing for "
                                f"{merged[TIME].iloc[r]}; give the next {H} rows of known covariates after the "
                                "last observed target")
            cols = [spec.scaled_columns.index(c) for c in known]
            row_of = np.repeat(rows, H)
            scaled = (values - scaler.mean[row_of][:, cols]) / scaler.scale[row_of][:, cols]
            parts.append(scaled.reshape(S, H, len(known)))
        if spec.lag:
            parts.append(lagged[:, :, None])
        if spec.freq.calendar:
            parts.append(calendar_features(grid.ravel(), spec.freq.calendar).reshape(S, H, -1))
        if spec.holidays:   # from the dates alone: the request needs no holiday column
            parts.append(holiday_features(grid.ravel(), spec.holidays).reshape(S, H, -1))
        if not parts:
            return np.zeros((S, H, 0), dtype=np.float32)
        return np.concatenate(parts, axis=-1).astype(np.float32)

    def _forecast(self, regular: pd.DataFrame, future: pd.DataFrame, batch_size: int, progress: bool) -> pd.DataFrame:
        spec, T, H = self.spec, self.spec.seq_len, self.spec.horizon
        scaler = self._scaler_for(regular)
        panel = build_panel(regular, spec, scaler)
        rows = scaler.rows_for(panel.ids)
        ends = panel.offsets[1:]
        grid = spec.freq.following(panel.timestamps[ends - 1], H)                      # (S, H)
        x = panel.values[(ends - T)[:, None] + np.arange(T)]                           # (S, T, F)
        # the seasonal-naive forecast, in scaled units: the last season, repeated over a longer horizon
        lagged = panel.values[(ends - spec.lag)[:, None] + np.arange(H) % spec.lag, 0] if spec.lag else None
        fut = self._future_known(panel.ids, grid, future, scaler, rows, lagged)        # (S, H, K)
        starts = range(0, len(x), batch_size)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="forecasting", unit="batch", leave=False)
        batches = ((torch.from_numpy(x[i:i + batch_size]), torch.from_numpy(fut[i:i + batch_size])) for i in starts)
        q = scaler.inverse(predict_quantiles(self.model, batches).astype(np.float64), rows)              # (S, H, Q)
        q = self.combination.apply(q, self.model.config.median_index,   # chosen in training (models/combination.py)
                                   lambda names: window_forecasts(panel.raw_target, ends, panel.offsets[:-1], H,
                                                                  spec.freq.season_length, names))
        q = spec.bound(q)
        return self._rows(panel.ids, grid, q[:, :, self.model.config.median_index], q, "model")

    def _fallback(self, regular: pd.DataFrame) -> pd.DataFrame:
        """The short-series forecast chosen in training (models/short_series.py); by the old rule (seasonal naive where
        a season of history exists, else naive, its intervals from its in-sample errors) for a bundle from before
        it, or where validation did not prefer another."""
        H, ids, m = self.spec.horizon, regular[ID].to_numpy(), self.spec.freq.season_length
        starts = run_starts(ids)
        ends = np.r_[starts[1:], len(ids)]
        target = regular[TARGET].to_numpy(np.float64)
        grid = self.spec.freq.following(regular[TIME].to_numpy()[ends - 1], H)
        if not self.fallback.is_default:
            fits = [self.fallback.forecast(target[a:b], H, m, self.quantiles) for a, b in zip(starts, ends)]
            q = np.stack([f[1] for f in fits])                                     # (S, H, Q)
            q[:, :, self.model.config.median_index] = np.stack([f[0] for f in fits])
            q = self.spec.bound(_sorted(q))    # the spread is centred on the median: it stays the point
            methods = [self.fallback.method(b - a, m > 1) for a, b in zip(starts, ends)]
            return self._rows(ids[starts], grid, q[:, :, self.model.config.median_index], q, np.repeat(methods, H))
        _, p, seasonal = naive_forecasts(target, ends, starts, H, m)
        q = np.stack([naive_intervals(target[a:b], p[i], m if seasonal[i] else 1, self.quantiles)
                      for i, (a, b) in enumerate(zip(starts, ends))])               # (S, H, Q): from in-sample errors
        q[:, :, self.model.config.median_index] = p
        q = self.spec.bound(_sorted(q))
        return self._rows(ids[starts], grid, q[:, :, self.model.config.median_index], q,
                          np.repeat(np.where(seasonal, "seasonal_naive", "naive"), H))

    def _rows(self, ids, grid, point, q, method) -> pd.DataFrame:
        S, H = grid.shape
        return pd.DataFrame({ID: np.repeat(ids, H), TIME: grid.ravel(), "step": np.tile(np.arange(1, H + 1), S),
                             "prediction": point.ravel(), **{f"q{tau}": q[:, :, k].ravel() for k, tau in
                                                             enumerate(self.quantiles)},
                             "method": method})   # one name for all rows, or one per row


def _sorted(q: np.ndarray) -> np.ndarray:
    """Quantiles sorted along the last axis (no crossing), left as they are where a row has no interval (NaN)."""
    return np.where(np.isnan(q).any(axis=-1, keepdims=True), q, np.sort(q, axis=-1))
