"""Batch scoring: `forecast predict` end to end on 10,000 series x 200 points (CSV in, CSV out).

    python benchmarks/batch_scoring.py [--series 10000] [--length 200] [--repeats 3]

A default-size model (d_model 64, 8 layers) is trained for a few steps on 20 of the series (accuracy is
not the point), registered in a temporary store, then the whole file is scored by the real CLI in a fresh
process each repeat. Reports the median wall time, and where it goes (in-process profile of one call).
"""
import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def frame(n_series: int, length: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    t = pd.date_range("2024-01-01", periods=length, freq="h").strftime("%Y-%m-%dT%H:%M:%S")
    phase = np.tile(np.arange(length) * 2 * np.pi / 24, n_series)
    level = np.repeat(rng.uniform(10, 100, n_series), length)
    return pd.DataFrame({"series_id": np.repeat([f"s{i:05d}" for i in range(n_series)], length),
                         "timestamp": np.tile(t, n_series),
                         "value": level * (1 + 0.2 * np.sin(phase)) + rng.normal(0, 1, n_series * length)})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    forecast = str(Path(sys.executable).parent / "forecast")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = frame(args.series, args.length)
        data.to_csv(tmp / "all.csv", index=False)
        data[data["series_id"] < "s00020"].to_csv(tmp / "train.csv", index=False)
        uri = f"sqlite:///{tmp}/mlflow.db"
        subprocess.run([forecast, "train", "--data", str(tmp / "train.csv"), "--tracking-uri", uri, "--max-steps", "5",
                        "--no-progress", "--health-every", "0"], cwd=tmp, check=True, capture_output=True)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            subprocess.run([forecast, "predict", "--model", "models:/forecaster/1", "--data", str(tmp / "all.csv"),
                            "--output", str(tmp / "out.csv"), "--tracking-uri", uri], cwd=tmp, check=True,
                           capture_output=True)
            times.append(time.perf_counter() - start)
        rows = sum(1 for _ in open(tmp / "out.csv")) - 1
    print(f"{args.series} series x {args.length} points ({args.series * args.length:,} rows): `forecast predict` "
          f"{statistics.median(times):.1f}s median of {args.repeats} ({', '.join(f'{t:.1f}' for t in times)}); "
          f"{rows:,} forecast rows")


if __name__ == "__main__":
    main()
