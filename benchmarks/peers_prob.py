"""The statistical peers' probabilistic scores on the suite: statsforecast's AutoETS and AutoTheta under the suite's
protocol (refitted on each origin's whole history, the season given), their deciles from their own prediction
intervals (levels 20, 40, 60 and 80 %: q0.1 is the 80 % interval's lower end, q0.5 the point forecast), scored
with benchmarks/suite_metrics.py as benchmarks/score_suite.py scores ours. Their MASE is printed beside, as a
check against the harness's (`../shared/data/suite/peers/`: the same figures where the protocol is the same).

It needs statsforecast, which needs pandas < 3: run it in a venv of its own, from the project root:

    python -m venv sf && sf/bin/pip install statsforecast==2.1.1 "pandas<3"
    sf/bin/python benchmarks/peers_prob.py --suite suite/ --out peers_prob.json [DATASET ...]

`benchmarks/suite_table.py ... --peers-prob peers_prob.json` puts their geometric means beside ours.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from suite_metrics import DECILES, coverage, mase_scale, wql

PEERS = ("AutoETS", "AutoTheta")
LEVELS = (20, 40, 60, 80)


def deciles(p: pd.DataFrame, name: str) -> np.ndarray:
    """(N, 9) from statsforecast's columns: the lower ends (80 % first), the point forecast, the upper ends."""
    lower = [p[f"{name}-lo-{level}"] for level in reversed(LEVELS)]
    upper = [p[f"{name}-hi-{level}"] for level in LEVELS]
    return np.column_stack([*lower, p[name], *upper])


def score(path: Path, horizon: int, season: int, windows: int, peers: tuple[str, ...] = PEERS) -> dict:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, AutoTheta

    full = pd.read_csv(path, dtype={"series_id": str})
    numbers = pd.to_numeric(full["timestamp"], errors="coerce")
    full["_t"] = numbers if numbers.notna().all() else pd.to_datetime(full["timestamp"])
    full = full.sort_values(["series_id", "_t"], kind="stable").reset_index(drop=True)
    full["ds"] = full.groupby("series_id").cumcount()
    first_test = full.groupby("series_id")["ds"].transform("size") - windows * horizon
    out = {}
    models = {"AutoETS": AutoETS(season_length=season), "AutoTheta": AutoTheta(season_length=season)}
    for name, model in ((p, models[p]) for p in peers):
        started, rows = time.perf_counter(), []
        for w in range(windows):
            origin = first_test + w * horizon
            history = full[full["ds"] < origin].rename(columns={"series_id": "unique_id", "value": "y"})
            sf = StatsForecast(models=[model], freq=1, n_jobs=1)
            p = sf.forecast(df=history[["unique_id", "ds", "y"]], h=horizon, level=list(LEVELS))
            p = p.reset_index() if "unique_id" not in p.columns else p
            actual = full[(full["ds"] >= origin) & (full["ds"] < origin + horizon)]
            joined = actual.merge(p.assign(unique_id=p["unique_id"].astype(str), ds=p["ds"].astype("int64")),
                                  left_on=["series_id", "ds"], right_on=["unique_id", "ds"], how="left")
            rows.append(pd.DataFrame(deciles(joined, name), columns=[f"q{q}" for q in DECILES]).assign(
                series_id=joined["series_id"].to_numpy(), y=joined["value"].to_numpy(),
                point=joined[name].to_numpy()))
        table = pd.concat(rows, ignore_index=True)
        q, y = table[[f"q{q}" for q in DECILES]].to_numpy(), table["y"].to_numpy()
        train = full[full["ds"] < first_test]
        scale = train.groupby("series_id")["value"].apply(lambda v: mase_scale(v.to_numpy(), season))
        mase = (table.assign(e=(table["point"] - table["y"]).abs()).groupby("series_id")["e"].mean() / scale).mean()
        out[name] = {"wql": wql(y, q), "coverage": coverage(y, q), "mase": float(mase),
                     "seconds": time.perf_counter() - started}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", required=True, help="the folder benchmarks/build_suite.py wrote (suite.json)")
    parser.add_argument("--out", required=True, help="JSON file: dataset -> peer -> wql, coverage, mase, seconds")
    parser.add_argument("datasets", nargs="*", help="some of them (default: all)")
    parser.add_argument("--leave-out", nargs="*", default=["pedestrian:AutoTheta"], metavar="DATASET:PEER",
                        help="peers not run on a dataset (default: AutoTheta on pedestrian, over 35 minutes on one "
                             "core: the team's harness leaves it out too)")
    args = parser.parse_args()
    left_out = {tuple(item.split(":", 1)) for item in args.leave_out}
    suite, out = Path(args.suite), Path(args.out)
    specs = {d["name"]: d for d in json.loads((suite / "suite.json").read_text())}
    results = json.loads(out.read_text()) if out.exists() else {}
    print(f"{'dataset':<18} {'peer':<10} {'wql':>8} {'coverage':>8} {'mase':>8} {'seconds':>8}")
    for name in args.datasets or list(specs):
        d = specs[name]
        results[name] = score(suite / d.get("file", f"{name}.csv"), d["horizon"], d["season"], d["windows"],
                              tuple(p for p in PEERS if (name, p) not in left_out))
        out.write_text(json.dumps(results, indent=1))         # after each dataset: nothing lost if stopped
        for peer, r in results[name].items():
            print(f"{name:<18} {peer:<10} {r['wql']:8.4f} {r['coverage']:8.3f} {r['mase']:8.3f} {r['seconds']:8.0f}",
                  flush=True)


if __name__ == "__main__":
    main()
