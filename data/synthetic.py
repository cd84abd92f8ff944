"""A synthetic pretraining corpus: series drawn from generative families, never from a real dataset.

    corpus(n_series, seed) -> DataFrame series_id, time (integer steps), value, period, family

Each series draws a period from PERIODS (the usual seasons: none, quarterly, daily-of-week, monthly, hourly,
weekly-of-year, hourly-of-week), a length log-uniform over [min_length, max_length], then a family:

- `kernel`: KernelSynth (Ansari et al. 2024, the Chronos corpus): a Gaussian process whose kernel is a random
  sum or product of 1-4 kernels from a bank (linear trend, smooth RBF, rational quadratic, periodic at the
  series' period or a multiple, white noise). Smooth shapes, trends and seasons of any mix.
- `ets`: an exponential-smoothing state-space simulation (level, damped or not trend, additive or
  multiplicative season and error): the model class that wins short business panels.
- `arima`: a stationary ARMA(p<=3, q<=2) process, integrated once or not, with an optional seasonal AR term:
  autocorrelated noise and random walks.
- `growth`: a level growing (or shrinking) by a persistent rate with noise in the rate and around the level,
  optionally seasonal: the compounding trends of economic, population and sales series, which the stationary
  families above rarely produce over a 20-step window.
- `intermittent`: demand that occurs with probability p per step, sized by a gamma draw (Croston's setting),
  with a seasonal occurrence rate where the series has a period.

Afterwards a share of series gets level shifts (a step change at 1-3 random points: strikes, re-basing) and a
random positive level, so the network meets the shapes it will be fine-tuned on. Hand-written: no library
generates these families together with one seed (statsforecast/sktime simulate ARIMA/ETS one model at a time,
GP samplers need a kernel algebra), and the whole file is numpy and scipy.signal.
"""
import numpy as np
import pandas as pd
from scipy.signal import lfilter

PERIODS = (1, 4, 7, 12, 24, 52, 168)
PERIOD_WEIGHTS = (0.25, 0.15, 0.1, 0.2, 0.12, 0.08, 0.1)
FAMILIES = ("kernel", "ets", "arima", "growth", "intermittent")
FAMILY_WEIGHTS = (0.3, 0.25, 0.15, 0.2, 0.1)
LEVEL_SHIFT_SHARE = 0.15
KERNEL_MAX_POINTS = 512   # a GP sample costs O(n^3): longer kernel series repeat a 512-point draw's kernel on a grid


def corpus(n_series: int, seed: int, min_length: int = 10, max_length: int = 2000) -> pd.DataFrame:
    """`n_series` synthetic series in long format (see the module docstring); the same seed, the same corpus."""
    if n_series < 1 or not 2 <= min_length <= max_length:
        raise ValueError("corpus needs n_series >= 1 and 2 <= min_length <= max_length")
    rng = np.random.default_rng(seed)
    periods = rng.choice(PERIODS, size=n_series, p=PERIOD_WEIGHTS)
    lengths = np.exp(rng.uniform(np.log(min_length), np.log(max_length + 1), size=n_series)).astype(np.int64)
    lengths = np.clip(lengths, min_length, max_length)
    families = rng.choice(FAMILIES, size=n_series, p=FAMILY_WEIGHTS)
    parts = []
    for i in range(n_series):
        values = series(rng, str(families[i]), int(periods[i]), int(lengths[i]))
        parts.append(pd.DataFrame({"series_id": f"s{i}", "time": np.arange(len(values)), "value": values,
                                   "period": int(periods[i]), "family": str(families[i])}))
    return pd.concat(parts, ignore_index=True)


def series(rng: np.random.Generator, family: str, period: int, length: int) -> np.ndarray:
    """One series of `family` (FAMILIES) with season `period` (1 = none), `length` points, finite float64."""
    draw = {"kernel": kernel_synth, "ets": ets, "arima": arima, "growth": growth, "intermittent": intermittent}[family]
    y = draw(rng, period, length)
    if family != "intermittent":
        if rng.random() < LEVEL_SHIFT_SHARE:
            y = y + level_shifts(rng, length, np.std(y) + 1e-3)
        y = y + rng.choice([0.0, 1.0]) * rng.lognormal(1.0, 1.5) * (np.std(y) + 1e-3)   # some sit far from zero
    y = y * rng.lognormal(0.0, 2.0)   # any scale: the scalers must handle it
    return np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)


# --- KernelSynth -------------------------------------------------------------------------------------------

def _kernel(rng: np.random.Generator, t: np.ndarray, period: int, length: int) -> np.ndarray:
    """One kernel from the bank on times t (steps), as a matrix."""
    d = t[:, None] - t[None, :]
    kind = rng.choice(["linear", "rbf", "rq", "periodic", "periodic", "white"])
    if kind == "linear":
        c = rng.uniform(0, 1)
        s = t / max(length, 1)
        return c + np.outer(s, s) * rng.uniform(0.5, 3.0)
    if kind == "rbf":
        ell = length * rng.choice([0.02, 0.05, 0.1, 0.3, 1.0])
        return np.exp(-0.5 * (d / ell) ** 2)
    if kind == "rq":
        ell, alpha = length * rng.choice([0.05, 0.1, 0.3]), rng.choice([0.1, 1.0, 10.0])
        return (1 + d ** 2 / (2 * alpha * ell ** 2)) ** -alpha
    if kind == "periodic":
        p = period if period > 1 and rng.random() < 0.8 else rng.choice([4, 7, 12, 24, 30, 52, 90, 168])
        ell = rng.choice([0.5, 1.0, 2.0])
        return np.exp(-2 * np.sin(np.pi * np.abs(d) / p) ** 2 / ell ** 2)
    return np.eye(len(t)) * rng.uniform(0.01, 0.3)


def kernel_synth(rng: np.random.Generator, period: int, length: int) -> np.ndarray:
    """A GP sample whose kernel is a random sum/product of 1-4 bank kernels (KernelSynth)."""
    n = min(length, KERNEL_MAX_POINTS)
    step = length / n   # a long series samples its GP on a coarser grid of n points, then interpolates
    t = np.arange(n) * step
    k = _kernel(rng, t, period, length)
    for _ in range(rng.integers(0, 4)):
        other = _kernel(rng, t, period, length)
        k = k + other if rng.random() < 0.5 else k * other
    k = k + np.eye(n) * 1e-6
    try:
        chol = np.linalg.cholesky(k)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(k)
        chol = v * np.sqrt(np.clip(w, 0, None))
    y = chol @ rng.standard_normal(n)
    if n < length:
        y = np.interp(np.arange(length), t, y)
    return y


# --- exponential smoothing -----------------------------------------------------------------------------------

def ets(rng: np.random.Generator, period: int, length: int) -> np.ndarray:
    """ETS(A/M, N/A/Ad, N/A/M) state-space simulation."""
    alpha = rng.uniform(0.05, 0.6)
    beta = rng.uniform(0.0, 0.2) * alpha if rng.random() < 0.6 else 0.0
    phi = rng.uniform(0.8, 0.98) if beta and rng.random() < 0.5 else 1.0
    gamma = rng.uniform(0.0, 0.3) * (1 - alpha) if period > 1 else 0.0
    multiplicative = rng.random() < 0.4
    sigma = rng.uniform(0.01, 0.15) if multiplicative else rng.uniform(0.05, 1.0)
    level, trend = 10.0, rng.normal(0, 0.1) * (beta > 0)
    season = np.zeros(max(period, 1))
    if period > 1:
        shape = np.sin(2 * np.pi * np.arange(period) / period + rng.uniform(0, 2 * np.pi))
        shape += 0.5 * rng.standard_normal(period)
        season = (shape - shape.mean()) * rng.uniform(0.1, 0.5) * (1 if multiplicative else level * 0.3)
    out = np.empty(length)
    errors = rng.standard_normal(length) * sigma
    for i in range(length):
        s = season[i % len(season)]
        base = level + phi * trend
        if multiplicative:
            fitted = base * (1 + s)
            e = errors[i]
            out[i] = fitted * (1 + e)
            level = base * (1 + alpha * e)
            trend = phi * trend + beta * base * e
            season[i % len(season)] = s + gamma * (1 + s) * e
            level = max(level, 1e-3)
        else:
            out[i] = base + s + errors[i]
            level = base + alpha * errors[i]
            trend = phi * trend + beta * errors[i]
            season[i % len(season)] = s + gamma * errors[i]
    return out


# --- ARIMA ---------------------------------------------------------------------------------------------------

def _stable_polynomial(rng: np.random.Generator, order: int) -> np.ndarray:
    """1 - a1 z - ... with every root outside the unit circle (drawn from roots inside radius 0.95)."""
    roots = []
    while len(roots) < order:
        if order - len(roots) >= 2 and rng.random() < 0.5:
            r, angle = rng.uniform(0.2, 0.95), rng.uniform(0, np.pi)
            roots += [r * np.exp(1j * angle), r * np.exp(-1j * angle)]
        else:
            roots.append(rng.uniform(-0.95, 0.95))
    return np.real(np.poly(roots))


def arima(rng: np.random.Generator, period: int, length: int) -> np.ndarray:
    """ARMA(p, q), optionally with a seasonal AR(1) term at the period, integrated d in {0, 1} times."""
    ar = _stable_polynomial(rng, int(rng.integers(0, 4)))
    ma = np.r_[1.0, rng.uniform(-0.8, 0.8, size=int(rng.integers(0, 3)))]
    if period > 1 and rng.random() < 0.6:
        seasonal = np.zeros(period + 1)
        seasonal[0], seasonal[period] = 1.0, -rng.uniform(0.3, 0.95)
        ar = np.convolve(ar, seasonal)
    burn = 200
    y = lfilter(ma, ar, rng.standard_normal(length + burn))[burn:]
    if rng.random() < 0.4:
        y = np.cumsum(y + rng.normal(0, 0.05))
    return y


# --- compounding growth -------------------------------------------------------------------------------------

def growth(rng: np.random.Generator, period: int, length: int) -> np.ndarray:
    """log y = a random walk whose drift (the growth rate) persists and itself drifts slowly, plus noise around the
    level and, with a period, a multiplicative season. The whole series grows by a factor of e^-1.5 to e^3 (a
    shrinking market to a twentyfold economy): a rate per step, not per year, would compound to absurd ranges
    over the long series."""
    total = rng.uniform(-1.5, 3.0)
    wander = np.cumsum(rng.normal(0, abs(total) / length * 0.1, length))
    rate = total / length * (1 + 0.5 * rng.standard_normal()) + wander
    log_level = np.cumsum(rate + rng.normal(0, rng.uniform(0.002, 0.03), length))
    noise = rng.normal(0, rng.uniform(0.0, 0.05), length)
    season = 0.0
    if period > 1 and rng.random() < 0.7:
        shape = np.sin(2 * np.pi * np.arange(period) / period + rng.uniform(0, 2 * np.pi))
        season = np.resize(shape, length) * rng.uniform(0.02, 0.3)
    return 100.0 * np.exp(log_level - log_level[0] + noise + season)


# --- intermittent demand -------------------------------------------------------------------------------------

def intermittent(rng: np.random.Generator, period: int, length: int) -> np.ndarray:
    """Demand occurring with probability p (seasonal where there is a period), sized by a gamma draw; counts
    where the sizes are small."""
    p = rng.uniform(0.05, 0.6)
    rate = np.full(length, p)
    if period > 1 and rng.random() < 0.6:
        rate = p * (1 + 0.8 * np.sin(2 * np.pi * np.arange(length) / period + rng.uniform(0, 2 * np.pi)))
    occurs = rng.random(length) < np.clip(rate, 0, 1)
    size = rng.gamma(rng.uniform(0.5, 5), rng.uniform(1, 20), size=length)
    if rng.random() < 0.5:
        size = np.ceil(size)
    return occurs * size


def level_shifts(rng: np.random.Generator, length: int, scale: float) -> np.ndarray:
    """A step function with 1-3 jumps at random points, each of about 1-3 series spreads."""
    shift = np.zeros(length)
    for at in rng.integers(1, max(length, 2), size=int(rng.integers(1, 4))):
        shift[at:] += rng.normal(0, 2) * scale
    return shift
