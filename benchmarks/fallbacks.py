"""The fallback for a series shorter than the model's context, measured: seasonal naive, naive and statsmodels'
Theta method on the suite's short panels, from histories cut to the last N points (test MASE as the peer
harness computes it: test MAE over the in-sample seasonal-naive MAE of the whole history).

    pip install statsmodels==0.15.0      # not a dependency of the product
    python benchmarks/fallbacks.py [--suite ../shared/data/suite]
"""
import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

DATASETS = {"m1_monthly": (18, 12), "tourism_quarterly": (8, 4)}


def _seasonal_naive(y, H, m):
    return y[len(y) - m + np.arange(H) % m] if len(y) >= m else None


def _theta(y, H, m):
    from statsmodels.tsa.forecasting.theta import ThetaModel

    seasonal = m > 1 and len(y) >= 2 * m
    return np.asarray(ThetaModel(y, period=m if seasonal else 1, deseasonalize=seasonal).fit().forecast(H))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--suite", default=str(Path(__file__).parents[1] / ".." / "shared" / "data" / "suite"))
    suite = Path(parser.parse_args().suite)
    warnings.simplefilter("ignore")
    for name, (H, m) in DATASETS.items():
        frame = pd.read_csv(suite / f"{name}.csv")
        for cut in (19, 12, 8, None):
            errors = {"seasonal naive": [], "naive": [], "theta": []}
            for _, g in frame.groupby("series_id"):
                y = g["value"].to_numpy(float)
                history, test = y[:-H], y[-H:]
                scale = np.mean(np.abs(history[m:] - history[:-m]))
                if scale == 0:
                    continue
                h = history[-cut:] if cut else history
                for method, f in (("seasonal naive", _seasonal_naive(h, H, m)), ("naive", np.repeat(h[-1], H)),
                                  ("theta", _theta(h, H, m))):
                    if f is not None:
                        errors[method].append(np.mean(np.abs(f - test)) / scale)
            row = ", ".join(f"{k} {np.mean(v):.3f}" for k, v in errors.items() if v)
            print(f"{name:18} history {'whole' if cut is None else f'last {cut}':8} {row}")


if __name__ == "__main__":
    main()
