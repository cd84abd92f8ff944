"""Two scoring runs of one suite dataset side by side, per range of history length at the test origin: each
series' MASE (the harness's scale, benchmarks/suite_metrics.py) averaged over the series of the range. A diagnosis
of where a change moved the score (short series against long ones), not a decision: decisions take the aggregate.

    python benchmarks/compare_by_length.py SUITE_DIR DATASET BEFORE_WORK AFTER_WORK [--edge 20]

BEFORE_WORK and AFTER_WORK are score.sh's work folders (OUT), each holding DATASET/fc.csv.
"""
import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
from suite_metrics import mase_scale


def per_series(suite: Path, name: str, work: Path) -> pd.DataFrame:
    d = {x["name"]: x for x in json.loads((suite / "suite.json").read_text())}[name]
    test_len = d["horizon"] * d["windows"]
    full = pd.read_csv(suite / f"{name}.csv", dtype={"series_id": str})
    fc = pd.read_csv(work / name / "fc.csv", dtype={"series_id": str}).groupby("series_id")["yhat"]
    rows = []
    for sid, g in full.groupby("series_id"):
        y = g["value"].to_numpy(np.float64)
        history, test = y[:-test_len], y[-test_len:]
        rows.append((sid, len(history) - (d["windows"] - 1) * d["horizon"],
                     np.mean(np.abs(fc.get_group(sid).to_numpy() - test)) / mase_scale(history, d["season"])))
    return pd.DataFrame(rows, columns=["series_id", "history", "mase"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", type=Path)
    parser.add_argument("dataset")
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--edge", type=int, default=20, help="history length splitting the ranges (seq_len)")
    args = parser.parse_args()
    both = per_series(args.suite, args.dataset, args.before).merge(
        per_series(args.suite, args.dataset, args.after), on=["series_id", "history"], suffixes=("_before", "_after"))
    for label, part in (("under", both[both.history < args.edge]), ("from", both[both.history >= args.edge])):
        print(f"{args.dataset:<18} history {label} {args.edge:>3} rows: {len(part):>4} series, MASE "
              f"{part.mase_before.mean():.3f} -> {part.mase_after.mean():.3f}")


if __name__ == "__main__":
    main()
