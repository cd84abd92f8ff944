"""ETS (statsmodels' `ETSModel`): the AICc-best of up to four additive-error models (no trend or a damped additive
trend, times no season or an additive one where two seasons of history exist), as statsforecast's AutoETS selects.
A member of the fallback combination (models/fallback.py) and a peer of `forecast benchmark`."""
import warnings

import numpy as np


def ets(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The AICc-best of up to four additive-error ETS models; the last value where no fit succeeds."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    history = np.asarray(history, dtype=np.float64)
    seasons = (None, "add") if season > 1 and len(history) >= 2 * season else (None,)
    best = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # statsmodels' convergence warnings, per fit
        for seasonal in seasons:
            for trend in (None, "add"):
                try:
                    fit = ETSModel(history, error="add", trend=trend, damped_trend=trend is not None,
                                   seasonal=seasonal, seasonal_periods=season if seasonal else None).fit(disp=False)
                except (ValueError, np.linalg.LinAlgError):
                    continue
                if np.isfinite(fit.aicc) and (best is None or fit.aicc < best.aicc):
                    best = fit
    forecast = np.full(horizon, np.nan) if best is None else np.asarray(best.forecast(horizon), dtype=np.float64)
    return np.where(np.isfinite(forecast), forecast, history[-1])
