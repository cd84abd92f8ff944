"""Regenerate examples/hourly_load.csv: three synthetic hourly load series with a temperature covariate.

    python examples/make_example.py

Daily and weekly cycles, a slow trend, and load that rises with temperature; seeded, so the file is stable.
"""
from pathlib import Path

import numpy as np
import pandas as pd


def make(days: int = 42, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = pd.date_range("2024-03-01", periods=days * 24, freq="h")
    hour, dow = t.hour.to_numpy(), t.dayofweek.to_numpy()
    frames = []
    for i, (name, level) in enumerate([("north", 120.0), ("south", 80.0), ("east", 45.0)]):
        temp = 12 + 6 * np.sin(2 * np.pi * (hour - 15) / 24) + np.cumsum(rng.normal(0, 0.15, len(t)))
        daily = 0.25 * np.sin(2 * np.pi * (hour - 7) / 24) + 0.1 * np.sin(4 * np.pi * hour / 24)
        weekly = np.where(dow >= 5, -0.15, 0.0)
        load = level * (1 + daily + weekly + 0.01 * (temp - 12) + 0.0004 * np.arange(len(t)) / (i + 1))
        load += rng.normal(0, 0.03 * level, len(t))
        frames.append(pd.DataFrame({"series_id": name, "timestamp": t.strftime("%Y-%m-%dT%H:%M:%S"),
                                    "value": load.round(3), "temperature": temp.round(2)}))
    return pd.concat(frames, ignore_index=True)


if __name__ == "__main__":
    path = Path(__file__).with_name("hourly_load.csv")
    make().to_csv(path, index=False)
    print(f"wrote {path}")
