"""The forecast of series shorter than the model's context, measured: the fallback that training chooses
(models/short_series.py, chosen on each dataset's training part exactly as `forecast train` chooses it) against the old
rule (seasonal naive, naive without a season of history) and each member alone, on the test part of the suite's
short panels, from histories cut to the last N points (test MASE as the peer harness computes it: test MAE over the
in-sample seasonal-naive MAE of the whole history before the test part).

    python benchmarks/fallbacks.py --suite DIR [--datasets m1_monthly,...]

DIR holds the suite's CSVs (series_id, timestamp, value) and suite.json (name, file, horizon, season, windows).
"""
import argparse
import json
import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data.config import DataConfig
from forecast.data.prepare import prepare_training
from forecast.models.members import forecasts, names
from forecast.pipelines.training.members import choose_fallback

CUTS = (19, 12, 8, 4)


def _measure(frame: pd.DataFrame, H: int, m: int, windows: int) -> dict:
    """Per cut: the mean MASE of each member, the old rule and the chosen fallback over the series."""
    rank = frame.groupby("series_id").cumcount(ascending=False)
    logging.disable(logging.WARNING)
    prepared = prepare_training(frame[rank >= H * windows], DataConfig(horizon=H))
    logging.disable(logging.NOTSET)
    fallback, _ = choose_fallback(prepared, (0.1, 0.5, 0.9))
    out = {}
    for cut in CUTS:
        errors = []
        for _, g in frame.groupby("series_id"):
            y = g["value"].to_numpy(float)
            history, test = y[:-H], y[-H:]
            scale = np.mean(np.abs(history[m:] - history[:-m]))
            if scale == 0 or len(history) < cut:
                continue
            members = forecasts(history[-cut:], H, m)
            chosen, _ = fallback.forecast(history[-cut:], H, m, ())
            errors.append([*(np.abs(members - test).mean(axis=1) / scale), np.abs(chosen - test).mean() / scale])
        out[cut] = dict(zip([*names(), "chosen"], np.mean(errors, axis=0)))
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--suite", required=True)
    parser.add_argument("--datasets", default="m1_monthly,tourism_quarterly,m1_quarterly,tourism_yearly")
    args = parser.parse_args()
    suite = {d["name"]: d for d in json.loads((Path(args.suite) / "suite.json").read_text())}
    warnings.simplefilter("ignore")
    print(f"{'dataset':18} {'history':9} " + " ".join(f"{k:>15}" for k in (*names(), "chosen")))
    for name in args.datasets.split(","):
        d = suite[name]
        frame = pd.read_csv(Path(args.suite) / d["file"], dtype={"series_id": str})
        for cut, row in _measure(frame, d["horizon"], d["season"], d["windows"]).items():
            print(f"{name:18} {f'last {cut}':9} " + " ".join(f"{v:>15.3f}" for v in row.values()))


if __name__ == "__main__":
    main()
