"""Per-series MASE of ours (network series and short-series fallback apart) against statsforecast's AutoTheta and
AutoETS, and plain averages of them, on one suite dataset's test windows, from the work files of a scoring run
(train.csv, hist<w>.csv, fc<w>.csv per origin). statsforecast needs pandas < 3, so it runs in its own venv:

    python benchmarks/suite_breakdown.py SUITE_DIR DATASET WORK_DIR
"""
import json
import sys

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoETS, AutoTheta

root, name, work = sys.argv[1], sys.argv[2], sys.argv[3]
suite = {x["name"]: x for x in json.load(open(f"{root}/suite.json"))}[name]
H, m, W = suite["horizon"], suite["season"], suite["windows"]
full = pd.read_csv(f"{root}/{name}.csv", usecols=["series_id", "timestamp", "value"])
full["series_id"] = full["series_id"].astype(str)
org = pd.read_csv(f"{work}/{name}/train.origins.csv")
org["series_id"] = org["series_id"].astype(str)
rows = []
for w in range(W):
    fc = pd.read_csv(f"{work}/{name}/fc{w}.csv", dtype={"series_id": str})
    hist = pd.read_csv(f"{work}/{name}/hist{w}.csv", dtype={"series_id": str})
    hist = hist.rename(columns={"series_id": "unique_id", "timestamp": "ds", "value": "y"})
    numeric = pd.to_numeric(hist["ds"], errors="coerce")
    hist["ds"] = numeric if numeric.notna().all() else pd.to_datetime(hist["ds"])
    first = hist[hist.unique_id == hist.unique_id.iloc[0]].ds
    freq = 1 if np.issubdtype(hist["ds"].dtype, np.number) else pd.infer_freq(first)
    sf = StatsForecast(models=[AutoTheta(season_length=m), AutoETS(season_length=m)], freq=freq, n_jobs=1)
    peers = sf.forecast(df=hist[["unique_id", "ds", "y"]], h=H).reset_index()
    peers["step"] = peers.groupby("unique_id").cumcount() + 1
    for sid, g in fc.groupby("series_id"):
        h = hist[hist.unique_id == sid]["y"].to_numpy()
        tr = full[full.series_id == sid]["value"].to_numpy()
        n_hist = len(h)
        actual = tr[n_hist:n_hist + H]
        first_origin_len = int(org[(org.series_id == sid) & (org.window == 0)].index.size and len(h))
        p = peers[peers.unique_id == sid].sort_values("step")
        o, th, et = g.sort_values("step")["prediction"].to_numpy(), p["AutoTheta"].to_numpy(), p["AutoETS"].to_numpy()
        rows.append({"series": sid, "w": w, "method": g["method"].iloc[0], "n": n_hist,
                     "ours": np.abs(o - actual).mean(),
                     "theta": np.abs(th - actual).mean(),
                     "ets": np.abs(et - actual).mean(),
                     "o+t": np.abs((o + th) / 2 - actual).mean(),
                     "o+t+e": np.abs((o + th + et) / 3 - actual).mean(),
                     "t+e": np.abs((th + et) / 2 - actual).mean(),
                     ".75o+.25t": np.abs(0.75 * o + 0.25 * th - actual).mean(),
                     "snaive_in": np.abs(h[m:] - h[:-m]).mean() if len(h) > m else np.nan})
df = pd.DataFrame(rows)
# MASE scale from the training part (history before the first origin)
first = df[df.w == 0].set_index("series")["snaive_in"]
df["scale"] = df["series"].map(first)
COLS = ["ours", "theta", "ets", "o+t", "o+t+e", "t+e", ".75o+.25t"]
for c in COLS:
    df[c] = df[c] / df["scale"]
per = df.groupby("series").agg(method=("method", "first"), n=("n", "min"), **{c: (c, "mean") for c in COLS})
per["kind"] = np.where(per["method"] == "model", "network", "fallback")
print(per.groupby("kind")[COLS].mean().round(3).to_string())
print("all", per[COLS].mean().round(3).to_dict())
per.to_csv(f"{work}/{name}/breakdown.csv")
