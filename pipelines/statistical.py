"""The statistical references users reach for first on short panels, ETS and Theta (statsmodels), scored on
our test windows: each window's forecast comes from a fit on its own series' history up to the origin (the
statistical peers' protocol: refitted before every origin), in original units, then scaled like ours so that
`pipelines.evaluate.score` scores every model with the same code.

statsforecast's AutoETS/AutoTheta are the field's reference, but statsforecast 2.1.1 needs pandas < 3 and the
product pins pandas 3.0.6; statsmodels 0.15 installs beside it and has both methods (docs/benchmarks.md).
- ETS: additive errors; no trend or a damped additive trend, times no season or an additive one (where two
  seasons of history exist); the four fits compared by AICc, as AutoETS selects.
- Theta: `ThetaModel`, deseasonalised (its own test) where two seasons of history exist.
Both give point forecasts: every quantile is the point forecast (as pytorch-forecasting's Baseline's are), so
their pinball loss is a point forecast's. They have no trained weights: `n_parameters` is 0.
A fit sees at most the last `HISTORY` points (a seasonal ETS fit on 17,000 hourly points takes ~20 s).
"""
import time
import warnings

import numpy as np

from data.prepare import Prepared
from pipelines.peers import PeerResult

STATISTICAL = ("ets", "theta")
LABELS = {"ets": "statsmodels ETS", "theta": "statsmodels Theta"}
HISTORY = 1000


def ets(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The AICc-best of up to four additive-error ETS models."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    seasons = (None, "add") if season > 1 and len(history) >= 2 * season else (None,)
    best = None
    for seasonal in seasons:
        for trend in (None, "add"):
            fit = ETSModel(history, error="add", trend=trend, damped_trend=trend is not None, seasonal=seasonal,
                           seasonal_periods=season if seasonal else None).fit(disp=False)
            if np.isfinite(fit.aicc) and (best is None or fit.aicc < best.aicc):
                best = fit
    return np.repeat(history[-1], horizon) if best is None else np.asarray(best.forecast(horizon))


def theta(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    from statsmodels.tsa.forecasting.theta import ThetaModel

    seasonal = season > 1 and len(history) >= 2 * season
    return np.asarray(ThetaModel(history, period=season if seasonal else 1, deseasonalize=seasonal).fit()
                      .forecast(horizon))


def run_statistical(name: str, prepared: Prepared, quantiles: tuple[float, ...]) -> PeerResult:
    """Fit and forecast every test window (N, H, Q, scaled, in the order of the test starts); the fits happen
    at forecast time, so their seconds are predict seconds."""
    method = {"ets": ets, "theta": theta}[name]
    spec, panel, starts = prepared.spec, prepared.panel, prepared.starts["test"]
    H, season = spec.horizon, spec.freq.season_length
    series = panel.series_of(starts)
    origins = starts + spec.seq_len
    started = time.perf_counter()
    point = np.empty((len(starts), H))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # statsmodels' convergence and frequency warnings, per fit
        for k, (origin, first) in enumerate(zip(origins, panel.offsets[series])):
            history = panel.raw_target[max(first, origin - HISTORY):origin]
            forecast = method(history, H, season)
            point[k] = np.where(np.isfinite(forecast), forecast, history[-1])   # a failed fit: the last value
    rows = spec.scaler.rows_for(panel.ids[series])
    scaled = spec.scaler.forward(point, rows)
    return PeerResult(name, np.repeat(scaled[..., None], len(quantiles), axis=-1), 0.0,
                      time.perf_counter() - started, 0, 0, {"history": HISTORY, "season_length": season})
