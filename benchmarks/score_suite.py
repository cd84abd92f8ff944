"""Score the product on the accuracy suite (benchmarks/build_suite.py) under the suite's protocol: what README's
results table reports for ours.

For each dataset (horizon H, season m, W test origins; suite.json): the test part is the last W x H points of every
series, W origins H apart. `forecast train --data train.csv --horizon H --max-steps 500` (one torch thread) on
everything before the first origin; `forecast predict` from each origin's history (the rows up to it). MASE: each
series' test MAE over its in-sample seasonal-naive MAE (lag m) on the training part, averaged over series.
Seasonal naive is scored the same way, as a check on the protocol. The forecasts are asked for at the nine deciles
(`forecast predict --quantiles 0.1,...,0.9`: the trained levels, others interpolated between them), scored by WQL
and the q0.1-q0.9 interval's coverage (benchmarks/suite_metrics.py: the field's definitions).

    python benchmarks/build_suite.py --out suite/
    python benchmarks/score_suite.py --suite suite/ [DATASET ...]     # about 1.5 hours for all fifteen, one core
    python benchmarks/score_suite.py --suite suite/ --trained OUT/    # the models the team's harness trained
                                                                      # (score.sh's work folders): no training

The peers' figures in README (statsforecast's AutoETS and AutoTheta, neuralforecast's and pytorch-forecasting's
networks) come from the team's harness, which runs them under this protocol; `forecast benchmark` runs the ones
it ships (docs/reference.md).
"""
import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from suite_metrics import DECILES, coverage, mase_scale, wql


def _as_time(values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    return numbers if numbers.notna().all() else pd.to_datetime(values)


def _forecast(args: list[str], env: dict) -> None:
    done = subprocess.run(["forecast", *args], env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"forecast {args[0]} failed: {(done.stderr or done.stdout).strip().splitlines()[-1]}")


def score(path: Path, horizon: int, season: int, windows: int, work: Path, zero_shot: bool = False,
          train_args: tuple[str, ...] = (), trained: bool = False) -> dict:
    """Ours and seasonal naive on one dataset: MASE, our WQL and coverage, and our train seconds. `zero_shot`: no
    training, the shipped pretrained network (`forecast predict --model pretrained`); `trained`: `work` holds the
    model already (the harness's folder: its mlflow.db, version 1 trained on the same training part)."""
    full = pd.read_csv(path, dtype={"series_id": str})
    full["_t"] = _as_time(full["timestamp"])
    full = full.sort_values(["series_id", "_t"], kind="stable").reset_index(drop=True)
    position = full.groupby("series_id").cumcount()
    length = full.groupby("series_id")["value"].transform("size")
    first_test = length - windows * horizon                          # per row: its series' first test position
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}"}
    train = full[position < first_test]
    started = time.perf_counter()
    if not (zero_shot or trained):
        train.drop(columns="_t").to_csv(work / "train.csv", index=False)
        _forecast(["train", "--data", str(work / "train.csv"), "--horizon", str(horizon), "--max-steps", "500",
                   "--no-progress", *train_args], env)
    train_seconds = time.perf_counter() - started
    model = ["--model", "pretrained", "--horizon", str(horizon)] if zero_shot else ["--model", "models:/forecaster/1"]
    model += ["--quantiles", ",".join(map(str, DECILES))]
    levels = [f"q{q}" for q in DECILES]
    errors, probabilistic = [], []
    for w in range(windows):
        origin = first_test + w * horizon
        full[position < origin].drop(columns="_t").to_csv(work / f"history{w}.csv", index=False)
        _forecast(["predict", *model, "--data", str(work / f"history{w}.csv"),
                   "--output", str(work / f"forecast{w}.csv")], env)
        forecast = pd.read_csv(work / f"forecast{w}.csv", dtype={"series_id": str})
        actual = full[(position >= origin) & (position < origin + horizon)]
        actual = actual.assign(step=position[actual.index] - origin[actual.index] + 1)
        joined = actual.merge(forecast[["series_id", "step", "prediction", *levels]], on=["series_id", "step"],
                              how="left")
        if joined["prediction"].isna().any():
            raise SystemExit(f"{path.name}: window {w}: {int(joined['prediction'].isna().sum())} test points not "
                             "forecast")
        snaive = _seasonal_naive(full, position, origin, season, joined)
        errors.append(joined.assign(ours=(joined["prediction"] - joined["value"]).abs(),
                                    snaive=(snaive - joined["value"]).abs())[["series_id", "ours", "snaive"]])
        probabilistic.append(joined[["value", *levels]])
    scale = train.groupby("series_id")["value"].apply(lambda v: mase_scale(v.to_numpy(), season))
    per_series = pd.concat(errors).groupby("series_id")[["ours", "snaive"]].mean().div(scale, axis=0)
    points = pd.concat(probabilistic)
    y, q = points["value"].to_numpy(np.float64), points[levels].to_numpy(np.float64)
    return {"ours": float(per_series["ours"].mean()), "seasonal_naive": float(per_series["snaive"].mean()),
            "wql": wql(y, q), "coverage": coverage(y, q), "train_seconds": train_seconds,
            "series": int(len(per_series))}


def _seasonal_naive(full: pd.DataFrame, position: pd.Series, origin: pd.Series, season: int,
                    joined: pd.DataFrame) -> np.ndarray:
    """The seasonal-naive forecast of each test point: the value `season` steps back, repeated over the horizon."""
    history = full[position < origin]
    values = {sid: g.to_numpy() for sid, g in history.groupby("series_id")["value"]}
    out = []
    for sid, step in zip(joined["series_id"], joined["step"]):
        v = values[sid]
        lag = season if len(v) >= season else 1
        out.append(v[len(v) - lag + (step - 1) % lag])
    return np.asarray(out, dtype=np.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", required=True, help="the folder benchmarks/build_suite.py wrote")
    parser.add_argument("datasets", nargs="*", help="some of them (default: all)")
    parser.add_argument("--zero-shot", action="store_true",
                        help="no training: forecast with the shipped pretrained network (--model pretrained)")
    parser.add_argument("--train-args", default="", help="extra options for forecast train, e.g. '--no-pretrained'")
    parser.add_argument("--trained", type=Path, help="score the models in these work folders (<folder>/<dataset>/"
                        "mlflow.db: the team's harness's OUT), without training; train_s is then -")
    args = parser.parse_args()
    suite = Path(args.suite)
    specs = {d["name"]: d for d in json.loads((suite / "suite.json").read_text())}
    print(f"{'dataset':<18} {'ours':>8} {'snaive':>8} {'wql':>8} {'coverage':>8} {'train_s':>8}")
    for name in args.datasets or list(specs):
        d = specs[name]
        with tempfile.TemporaryDirectory(prefix=f"suite-{name}-") as tmp:
            work = args.trained / name if args.trained else Path(tmp)
            if args.trained and not (work / "mlflow.db").exists():
                print(f"{name}: no model in {work}", flush=True)
                continue
            r = score(suite / f"{name}.csv", d["horizon"], d["season"], d["windows"], work, args.zero_shot,
                      tuple(args.train_args.split()), trained=args.trained is not None)
        seconds = "-" if args.trained else f"{r['train_seconds']:.0f}"      # trained by the harness: its own table
        print(f"{name:<18} {r['ours']:8.3f} {r['seasonal_naive']:8.3f} {r['wql']:8.4f} {r['coverage']:8.3f} "
              f"{seconds:>8}", flush=True)


if __name__ == "__main__":
    main()
