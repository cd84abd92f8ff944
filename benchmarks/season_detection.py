"""The season found on integer-time panels (data/season.py), per dataset of the accuracy suite
(benchmarks/build_suite.py): the median autocorrelation of the first differences at each candidate lag over the
series long enough for it (three seasons), and the share of those series whose own autocorrelation passes the 5 %
white-noise bound. Read on each dataset's training part (everything before the first test origin), as
`forecast train` sees it under the suite's protocol.

    python benchmarks/season_detection.py --suite suite/ m1_monthly tourism_quarterly m1_quarterly tourism_yearly
"""
import argparse
import json
from pathlib import Path

import pandas as pd

from forecast.data.schema import ID, TARGET
from forecast.data.season import detect_season


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, required=True)
    parser.add_argument("datasets", nargs="+")
    args = parser.parse_args()
    suite = {d["name"]: d for d in json.loads((args.suite / "suite.json").read_text())}
    print(f"{'dataset':<20} {'season':>6} {'true':>5}  lag: median autocorrelation (share of series passing)")
    for name in args.datasets:
        d = suite[name]
        frame = pd.read_csv(args.suite / d["file"], usecols=["series_id", "value"])
        test = d["windows"] * d["horizon"]
        train = frame.groupby("series_id", sort=False).apply(lambda g: g.iloc[:-test], include_groups=False)
        regular = train.reset_index(level=0).rename(columns={"series_id": ID, "value": TARGET})
        found = detect_season(regular)
        lags = ", ".join(f"{m}: {v:+.2f} ({found.passing[m]:.0%})" for m, v in found.scores.items())
        print(f"{name:<20} {found.season:>6} {d['season']:>5}  {lags}")


if __name__ == "__main__":
    main()
