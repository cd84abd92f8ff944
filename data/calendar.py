"""Calendar features: sin/cos of the periods a frequency warrants. They are known for the future."""
import numpy as np
import pandas as pd

# period name -> (position within the period, period length)
_PERIODS = {
    "hour": (lambda t: t.hour + t.minute / 60.0, 24.0),
    "dayofweek": (lambda t: t.dayofweek + t.hour / 24.0, 7.0),
    "dayofyear": (lambda t: t.dayofyear - 1.0, 365.25),
    "month": (lambda t: t.month - 1.0, 12.0),
}


def calendar_names(periods: tuple[str, ...]) -> list[str]:
    return [f"cal_{p}_{f}" for p in periods for f in ("sin", "cos")]


def calendar_features(timestamps, periods: tuple[str, ...]) -> np.ndarray:
    """(n,) timestamps -> (n, 2 * len(periods)) float32, columns as `calendar_names(periods)`."""
    t = pd.DatetimeIndex(timestamps)
    out = np.empty((len(t), 2 * len(periods)), dtype=np.float32)
    for i, name in enumerate(periods):
        position, length = _PERIODS[name]
        angle = 2.0 * np.pi * np.asarray(position(t), dtype=np.float64) / length
        out[:, 2 * i], out[:, 2 * i + 1] = np.sin(angle), np.cos(angle)
    return out
