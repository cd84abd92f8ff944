"""How reliably data/season.py finds the season of integer-indexed data: every dataset of a folder (the suite,
from benchmarks/build_suite.py; read as if its time were an integer index) and three non-seasonal controls.

    python benchmarks/season_detection.py --data-dir suite/
"""
import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data.schema import ID, TARGET
from forecast.data.season import detect_season

TRUE = {"m1_monthly": 12, "tourism_quarterly": 4, "us_employment": 12, "aus_livestock": 12, "pedestrian": 24,
        "etth1": 24, "etth2": 24, "air_passengers": 12}


def _read(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    ids = frame["series_id"] if "series_id" in frame else "one"
    return pd.DataFrame({ID: ids, TARGET: frame["value"]})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True, help="a folder holding the datasets (benchmarks/build_suite.py)")
    root = Path(parser.parse_args().data_dir)
    rng = np.random.default_rng(0)
    found = {name: next(root.rglob(f"{name}.csv"), None) for name in TRUE}   # etth1/2: benchmarks/ett.py
    cases = {name: (_read(path), TRUE[name]) for name, path in found.items() if path is not None}
    if len(cases) < len(TRUE):
        print(f"not in {root}, left out: {', '.join(n for n, p in found.items() if p is None)}")
    cases["random walks"] = (pd.DataFrame({ID: np.repeat(np.arange(50), 100),
                                           TARGET: rng.normal(size=(50, 100)).cumsum(1).ravel()}), 1)
    cases["white noise"] = (pd.DataFrame({ID: np.repeat(np.arange(50), 60), TARGET: rng.normal(size=3000)}), 1)
    cases["noisy trends"] = (pd.DataFrame({ID: np.repeat(np.arange(20), 80),
                                           TARGET: (np.arange(80) * 0.5 + rng.normal(size=(20, 80))).ravel()}), 1)
    right = 0
    for name, (frame, season) in cases.items():
        found = detect_season(frame)
        right += found.season == season
        scores = " ".join(f"{m}:{v:+.2f}" for m, v in found.scores.items())
        print(f"{name:18} true {season:3d} found {found.season:3d}  {scores}")
    print(f"right on {right} of {len(cases)}")


if __name__ == "__main__":
    main()
